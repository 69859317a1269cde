import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';

/** The simulator honours conditional updates as DynamoDB does: the condition is read and the write made as one step. */
describe('simulated DynamoDB: conditional counters', () => {
  const reserve = () =>
    new UpdateCommand({
      TableName: 't',
      Key: { pk: 'p', sk: 's' },
      UpdateExpression: 'SET #ttl = :ttl ADD attempts :one',
      ConditionExpression: 'attribute_not_exists(attempts) OR attempts < :max',
      ExpressionAttributeNames: { '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':one': 1, ':max': 5, ':ttl': 100 },
    });

  it('40 parallel reservations against a limit of 5: 5 succeed, 35 fail with ConditionalCheckFailedException', async () => {
    const db = new SimulatedDynamoDb();
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => db.send(reserve())));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const reasons = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).name] : []));
    expect(reasons).toEqual(Array.from({ length: 35 }, () => 'ConditionalCheckFailedException'));
    expect((await db.send(new GetCommand({ TableName: 't', Key: { pk: 'p', sk: 's' } }))).Item).toEqual({
      pk: 'p',
      sk: 's',
      attempts: 5,
      ttl: 100,
    });
  });

  it('ADD of a negative number gives a slot back; ALL_NEW returns the item; comparisons of different types are false', async () => {
    const db = new SimulatedDynamoDb();
    for (let i = 0; i < 5; i++) await db.send(reserve());
    const back = await db.send(
      new UpdateCommand({
        TableName: 't',
        Key: { pk: 'p', sk: 's' },
        UpdateExpression: 'ADD attempts :minus',
        ExpressionAttributeValues: { ':minus': -1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expect(back).toEqual({ Attributes: { pk: 'p', sk: 's', attempts: 4, ttl: 100 } });
    await expect(db.send(reserve())).resolves.toEqual({});
    await expect(db.send(reserve())).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    await db.send(new PutCommand({ TableName: 't', Item: { pk: 'q', sk: 's', until: '2024-01-01T00:00:00Z' } }));
    const lock = (now: unknown) =>
      db.send(
        new PutCommand({
          TableName: 't',
          Item: { pk: 'q', sk: 's', until: '2025-01-01T00:00:00Z' },
          ConditionExpression: 'attribute_not_exists(pk) OR #until < :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': now },
        }),
      );
    await expect(lock(5)).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    await expect(lock('2024-06-01T00:00:00Z')).resolves.toEqual({});
    await expect(lock('2024-06-01T00:00:00Z')).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
  });
});
