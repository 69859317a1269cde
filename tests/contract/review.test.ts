import { expect } from '@jest/globals';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, DeleteFunctionCommand } from '@aws-sdk/client-lambda';
import { verifyReviewTask } from '#shared/review-tasks';
import { describeMoto, itKeepsTheManifestHonest, useMoto } from './moto';

/**
 * The review task of a Lambda function root created, checked on moto: lambda:GetFunction on a
 * function that exists (not done, unless the approval says who keeps it), and on one deleted
 * (moto's real ResourceNotFoundException on the wire: done).
 */
describeMoto('contract: review tasks', () => {
  const moto = useMoto();

  it('a function still there is not done; once deleted, GetFunction says so and the task is verified', async () => {
    const role = await moto.aws.iamAdmin().send(
      new CreateRoleCommand({
        RoleName: 'nightly-sync-role',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    const lambda = moto.aws.lambdaAdmin('eu-west-1');
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'nightly-sync',
        Runtime: 'python3.12',
        Role: role.Role!.Arn!,
        Handler: 'app.handler',
        Code: { ZipFile: Buffer.from('UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', 'base64') },
      }),
    );
    const subject = { kind: 'lambda-function' as const, id: 'nightly-sync', region: 'eu-west-1' };
    const clients = moto.aws.target();
    expect(await verifyReviewTask(subject, undefined, clients)).toMatchObject({ verified: false });
    expect(await verifyReviewTask(subject, 'keep: owned by the data team', clients)).toMatchObject({ verified: true });
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'nightly-sync' }));
    expect(await verifyReviewTask(subject, undefined, clients)).toEqual({
      verified: true,
      reason: 'lambda:GetFunction: nightly-sync no longer exists in eu-west-1',
    });
  });

  itKeepsTheManifestHonest(__filename);
});
