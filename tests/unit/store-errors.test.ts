import { expect } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { conditionalWrite } from '#shared/conditional-write';
import { IncidentStoreError, storeCall, TransientAwsError } from '#shared/errors';
import { LocalDirReader, readJson } from '#shared/evidence';
import { z } from 'zod';

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
const refused = () => Object.assign(new Error('not allowed'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const cancelled = (code: string) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: [{ Code: 'None' }, { Code: code }],
  });
const failing = (error: Error) => () => Promise.reject(error);

describe('storeCall: one mapping of AWS failures for every store', () => {
  it('passes the result through', async () => {
    await expect(
      storeCall('dynamodb:GetItem', () => Promise.resolve(42), IncidentStoreError, 'Incidents table GetItem failed'),
    ).resolves.toBe(42);
  });

  it('a throttle or 5xx is a TransientAwsError naming the operation, the AWS error kept as cause', async () => {
    const aws = throttled();
    const error = await storeCall('dynamodb:GetItem', failing(aws), IncidentStoreError, 'Incidents table GetItem failed').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TransientAwsError);
    expect(error).toMatchObject({ name: 'TransientAwsError', operation: 'dynamodb:GetItem', cause: aws });
  });

  it("anything else is the store's own class: what failed, the AWS error's name, the cause kept", async () => {
    const aws = refused();
    const error = await storeCall('dynamodb:PutItem', failing(aws), IncidentStoreError, 'Could not attach event e-1 to inc-1').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IncidentStoreError);
    expect(error).toMatchObject({
      name: 'IncidentStoreError',
      message: 'Could not attach event e-1 to inc-1: AccessDeniedException',
      cause: aws,
    });
  });

  it('a failure the caller expects reaches it as the SDK threw it', async () => {
    const aws = conditionFailed();
    await expect(storeCall('dynamodb:PutItem', failing(aws), IncidentStoreError, 'x', (e) => e === aws)).rejects.toBe(aws);
    await expect(storeCall('dynamodb:PutItem', failing(throttled()), IncidentStoreError, 'x', (e) => e === aws)).rejects.toBeInstanceOf(
      TransientAwsError,
    );
  });
});

describe('conditionalWrite', () => {
  it('true when written; false when the condition did not hold, alone or in a transaction', async () => {
    await expect(conditionalWrite('dynamodb:PutItem', () => Promise.resolve({}), IncidentStoreError, 'x')).resolves.toBe(true);
    await expect(conditionalWrite('dynamodb:PutItem', failing(conditionFailed()), IncidentStoreError, 'x')).resolves.toBe(false);
    await expect(
      conditionalWrite('dynamodb:TransactWriteItems', failing(cancelled('ConditionalCheckFailed')), IncidentStoreError, 'x'),
    ).resolves.toBe(false);
  });

  it('a transaction cancelled for another reason, a throttle: mapped as storeCall maps them', async () => {
    await expect(
      conditionalWrite(
        'dynamodb:TransactWriteItems',
        failing(cancelled('TransactionConflict')),
        IncidentStoreError,
        'Could not open an incident for account 111122223333',
      ),
    ).rejects.toMatchObject({
      name: 'IncidentStoreError',
      message: 'Could not open an incident for account 111122223333: TransactionCanceledException',
    });
    await expect(conditionalWrite('dynamodb:PutItem', failing(throttled()), IncidentStoreError, 'x')).rejects.toMatchObject({
      name: 'TransientAwsError',
      operation: 'dynamodb:PutItem',
    });
  });
});

describe('evidence reads fail as reads', () => {
  it('a path outside the bundle, read back, is refused as an EvidenceReadError (not a write error)', async () => {
    const reader = new LocalDirReader(mkdtempSync(join(tmpdir(), 'evidence-')));
    expect(() => reader.read('../outside.json')).toThrow(
      expect.objectContaining({ name: 'EvidenceReadError', message: expect.stringContaining('outside the bundle') }),
    );
    await expect(readJson(reader, '../outside.json', z.unknown())).rejects.toMatchObject({
      name: 'EvidenceReadError',
      message: expect.stringContaining('outside the bundle'),
    });
  });
});
