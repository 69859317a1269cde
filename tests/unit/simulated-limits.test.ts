import { expect } from '@jest/globals';
import { DynamoDBServiceException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { InvalidParameterException, PublishCommand } from '@aws-sdk/client-sns';
import { DYNAMODB_MAX_ITEM_BYTES, itemSize, SimulatedDynamoDb } from '#drill/simulated-dynamodb';
import { SimulatedSns, SNS_MAX_MESSAGE_BYTES, SNS_MAX_SUBJECT_CHARS } from '#drill/simulated-sns';

/** The simulated services refuse what AWS refuses, with AWS's exception: at each limit, and one past it. */

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:alerts';
const TABLE = 'incidents';

async function refusal(run: () => Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number }; $fault?: string }> {
  try {
    await run();
  } catch (error) {
    return error as Error & { $metadata?: { httpStatusCode?: number }; $fault?: string };
  }
  throw new Error('expected the call to be refused');
}

describe('SNS Publish limits', () => {
  let sns: SimulatedSns;
  const publish = (input: { Message: string; Subject?: string }) => sns.send(new PublishCommand({ TopicArn: TOPIC, ...input }));
  beforeEach(() => {
    sns = new SimulatedSns();
  });

  it('accepts a message of exactly 262,144 bytes', async () => {
    await expect(publish({ Message: 'x'.repeat(SNS_MAX_MESSAGE_BYTES) })).resolves.toEqual({ MessageId: expect.any(String) });
    expect(SNS_MAX_MESSAGE_BYTES).toBe(262_144);
  });

  it('refuses one byte more with InvalidParameterException "Invalid parameter: Message too long", and sends nothing', async () => {
    const error = await refusal(() => publish({ Message: 'x'.repeat(SNS_MAX_MESSAGE_BYTES + 1) }));
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error).toMatchObject({
      name: 'InvalidParameterException',
      message: 'Invalid parameter: Message too long',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect(sns.outbox).toEqual([]);
  });

  it('counts UTF-8 bytes, not characters', async () => {
    // "é" is 2 bytes: 131,072 of them are exactly the limit, one more is over with far fewer than 262,144 characters.
    await expect(publish({ Message: 'é'.repeat(SNS_MAX_MESSAGE_BYTES / 2) })).resolves.toBeDefined();
    const error = await refusal(() => publish({ Message: 'é'.repeat(SNS_MAX_MESSAGE_BYTES / 2 + 1) }));
    expect(error.message).toBe('Invalid parameter: Message too long');
  });

  it('accepts a subject of exactly 100 printable ASCII characters, starting with punctuation', async () => {
    const subject = `[root-responder] ${'a'.repeat(SNS_MAX_SUBJECT_CHARS - 17)}`;
    expect(subject).toHaveLength(100);
    await publish({ Message: 'body', Subject: subject });
    expect(sns.outbox.map((m) => m.subject)).toEqual([subject]);
  });

  it.each([
    ['101 characters', 'a'.repeat(SNS_MAX_SUBJECT_CHARS + 1)],
    ['empty', ''],
    ['a leading space', ' subject'],
    ['a line break', 'line one\nline two'],
    ['a carriage return', 'line one\r'],
    ['a tab', 'a\tb'],
    ['a NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
    ['an accented letter', 'Müller signed in'],
    ['an emoji', 'alert 🔥'],
    ['a non-breaking space', 'a\u00a0b'],
  ])('refuses a subject with %s: InvalidParameterException "Invalid parameter: Subject"', async (_, subject) => {
    const error = await refusal(() => publish({ Message: 'body', Subject: subject }));
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error).toMatchObject({
      name: 'InvalidParameterException',
      message: 'Invalid parameter: Subject',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect(sns.outbox).toEqual([]);
  });

  it('accepts a Publish without a subject', async () => {
    await publish({ Message: 'body' });
    expect(sns.outbox).toHaveLength(1);
  });
});

describe('DynamoDB item size', () => {
  // pk (2) + "p" (1) + sk (2) + "s" (1) + data (4): 10 bytes before the data string.
  const item = (dataBytes: number, char = 'x') => ({ pk: 'p', sk: 's', data: char.repeat(dataBytes / Buffer.byteLength(char)) });
  const overhead = 10;
  let ddb: SimulatedDynamoDb;
  beforeEach(() => {
    ddb = new SimulatedDynamoDb();
  });

  it('sizes items by the Developer Guide rules: names and strings in UTF-8, numbers by significant digits, 3 bytes per List or Map and 1 per element', () => {
    expect(DYNAMODB_MAX_ITEM_BYTES).toBe(400 * 1024);
    expect(itemSize({ pk: 'p' })).toBe(3);
    expect(itemSize({ é: 'é' })).toBe(4);
    expect(itemSize({ n: 12345 })).toBe(1 + 3 + 1); // 5 significant digits: 3 bytes, + 1
    expect(itemSize({ n: 1_000_000 })).toBe(1 + 1 + 1); // trailing zeroes trimmed: 1 digit
    expect(itemSize({ n: 0.25 })).toBe(1 + 1 + 1);
    expect(itemSize({ b: true, z: null })).toBe(2 + 2);
    expect(itemSize({ l: ['ab', 'c'] })).toBe(1 + 3 + (1 + 2) + (1 + 1));
    expect(itemSize({ m: { k: 'v' } })).toBe(1 + 3 + (1 + 1 + 1));
    expect(itemSize({ m: {}, l: [] })).toBe(1 + 3 + 1 + 3);
    expect(itemSize({ s: new Set(['ab', 'cd']) })).toBe(1 + 4);
    expect(itemSize({ bin: new Uint8Array(7) })).toBe(3 + 7);
    expect(itemSize({ gone: undefined })).toBe(0);
  });

  it('PutItem: accepts an item of exactly 400 KB', async () => {
    const at = item(DYNAMODB_MAX_ITEM_BYTES - overhead);
    expect(itemSize(at)).toBe(DYNAMODB_MAX_ITEM_BYTES);
    await ddb.send(new PutCommand({ TableName: TABLE, Item: at }));
    expect(ddb.items(TABLE)).toHaveLength(1);
  });

  it('PutItem: refuses one byte more with ValidationException "Item size has exceeded the maximum allowed size", before any condition, writing nothing', async () => {
    const over = item(DYNAMODB_MAX_ITEM_BYTES - overhead + 1);
    const error = await refusal(() =>
      ddb.send(new PutCommand({ TableName: TABLE, Item: over, ConditionExpression: 'attribute_not_exists(pk)' })),
    );
    expect(error).toBeInstanceOf(DynamoDBServiceException);
    expect(error).toMatchObject({
      name: 'ValidationException',
      message: 'Item size has exceeded the maximum allowed size',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect(ddb.items(TABLE)).toEqual([]);
  });

  it('PutItem: counts multi-byte characters by their UTF-8 bytes', async () => {
    await ddb.send(new PutCommand({ TableName: TABLE, Item: item(DYNAMODB_MAX_ITEM_BYTES - overhead, 'é') }));
    const error = await refusal(() =>
      ddb.send(new PutCommand({ TableName: TABLE, Item: item(DYNAMODB_MAX_ITEM_BYTES - overhead + 2, 'é') })),
    );
    expect(error.name).toBe('ValidationException');
  });

  it('UpdateItem: accepts a result of exactly 400 KB; one byte more is "Item size to update has exceeded the maximum allowed size" and changes nothing', async () => {
    await ddb.send(new PutCommand({ TableName: TABLE, Item: { pk: 'p', sk: 's', data: 'small' } }));
    const update = (bytes: number) =>
      ddb.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: { pk: 'p', sk: 's' },
          UpdateExpression: 'SET #d = :d',
          ExpressionAttributeNames: { '#d': 'data' },
          ExpressionAttributeValues: { ':d': 'x'.repeat(bytes) },
        }),
      );
    await update(DYNAMODB_MAX_ITEM_BYTES - overhead);
    expect(itemSize(ddb.items(TABLE)[0]!)).toBe(DYNAMODB_MAX_ITEM_BYTES);

    const error = await refusal(() => update(DYNAMODB_MAX_ITEM_BYTES - overhead + 1));
    expect(error).toBeInstanceOf(DynamoDBServiceException);
    expect(error).toMatchObject({
      name: 'ValidationException',
      message: 'Item size to update has exceeded the maximum allowed size',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect(itemSize(ddb.items(TABLE)[0]!)).toBe(DYNAMODB_MAX_ITEM_BYTES);
  });

  it('UpdateItem: an update that grows an existing item past the limit is refused, though its own value is small', async () => {
    await ddb.send(new PutCommand({ TableName: TABLE, Item: item(DYNAMODB_MAX_ITEM_BYTES - overhead) }));
    const error = await refusal(() =>
      ddb.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: { pk: 'p', sk: 's' },
          UpdateExpression: 'SET extra = :e',
          ExpressionAttributeValues: { ':e': 'y' },
        }),
      ),
    );
    expect(error.message).toBe('Item size to update has exceeded the maximum allowed size');
  });

  it('TransactWriteItems: accepts a Put of exactly 400 KB', async () => {
    await ddb.send(
      new TransactWriteCommand({ TransactItems: [{ Put: { TableName: TABLE, Item: item(DYNAMODB_MAX_ITEM_BYTES - overhead) } }] }),
    );
    expect(ddb.items(TABLE)).toHaveLength(1);
  });

  it('TransactWriteItems: a Put one byte over is refused by validation (ValidationException, not TransactionCanceledException), before conditions, writing nothing', async () => {
    await ddb.send(new PutCommand({ TableName: TABLE, Item: { pk: 'taken', sk: 'x' } }));
    const error = await refusal(() =>
      ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: TABLE, Item: { pk: 'small', sk: 'x' } } },
            { Put: { TableName: TABLE, Item: { pk: 'taken', sk: 'x' }, ConditionExpression: 'attribute_not_exists(pk)' } },
            { Put: { TableName: TABLE, Item: item(DYNAMODB_MAX_ITEM_BYTES - overhead + 1) } },
          ],
        }),
      ),
    );
    expect(error).not.toBeInstanceOf(TransactionCanceledException);
    expect(error).toMatchObject({
      name: 'ValidationException',
      message: 'Item size has exceeded the maximum allowed size',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect(ddb.items(TABLE).map((i) => i['pk'])).toEqual(['taken']);
  });
});
