import { expect } from '@jest/globals';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { CreateGrantCommand, CreateKeyCommand, ListGrantsCommand } from '@aws-sdk/client-kms';
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  GetFunctionUrlConfigCommand,
  GetPolicyCommand,
} from '@aws-sdk/client-lambda';
import { CreateResourceShareCommand } from '@aws-sdk/client-ram';
import { fixedClock } from '#shared/clock';
import { disassociateResourceShare, removeLambdaPermission, requireFunctionUrlAuth, revokeKmsGrant } from '#shared/remediations/grants';
import type { RunContext, VerifyContext } from '#shared/remediations/types';
import { ACCOUNT, describeMoto, itKeepsTheManifestHonest, MotoAws, useMoto, watchSent } from './moto';

/**
 * The grant and permission undos on moto: the real SDK serializes each call and parses moto's wire
 * answers and errors. moto 5.2.1 has KMS grants, Lambda permissions and function URL configs, and
 * RAM's CreateResourceShare and GetResourceShareAssociations, but no DisassociateResourceShare: that
 * one command is stubbed (manifest.ts) and its effect is checked with the SDK's mocks
 * (tests/unit/remediation-grants.test.ts) and in the drill.
 */
describeMoto('contract: the grant and permission undos', () => {
  const moto = useMoto();
  const region = 'us-east-1';
  const base = () => ({
    accountId: ACCOUNT,
    region,
    clients: moto.aws.target(),
    responder: moto.aws.target(),
    clock: fixedClock('2024-03-04T11:00:00Z'),
    baseline: { alternateContacts: {} },
    limiters: MotoAws.noLimits(),
  });
  const runCtx = (target: string): RunContext => ({
    ...base(),
    target,
    member: false,
    rootSession: () => Promise.reject(new Error('no root session here')),
  });
  const verifyCtx = (target: string): VerifyContext => ({ ...base(), target, ran: { detail: '' } });

  /** A function in moto (an empty zip: nothing is invoked), with the role moto wants to exist. */
  async function lambdaFunction(name: string): Promise<void> {
    const role = await moto.aws.iamAdmin().send(
      new CreateRoleCommand({
        RoleName: `${name}-role`,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    const emptyZip = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);
    await moto.aws.lambdaAdmin(region).send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs20.x',
        Role: role.Role!.Arn!,
        Handler: 'index.handler',
        Code: { ZipFile: emptyZip },
      }),
    );
  }

  it('revoke-kms-grant: RevokeGrant by the grant id, ListGrants no longer lists it; the undo creates an equivalent grant', async () => {
    const kms = moto.aws.kmsAdmin(region);
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const { GrantId } = await kms.send(
      new CreateGrantCommand({
        KeyId: key,
        GranteePrincipal: 'arn:aws:iam::444455556666:root',
        Operations: ['Decrypt', 'GenerateDataKey'],
      }),
    );
    const target = `${key} ${GrantId!}`;
    expect((await revokeKmsGrant.verify(verifyCtx(target))).verified).toBe(false);
    const sentNow = watchSent();
    const out = await revokeKmsGrant.run(runCtx(target));
    expect(sentNow('RevokeGrantCommand').map((s) => s.input)).toEqual([{ KeyId: key, GrantId }]);
    expect(out.undo).toEqual([
      `aws kms create-grant --key-id ${key} --grantee-principal arn:aws:iam::444455556666:root --operations Decrypt GenerateDataKey --region us-east-1`,
    ]);
    expect((await kms.send(new ListGrantsCommand({ KeyId: key }))).Grants ?? []).toEqual([]);
    expect(await revokeKmsGrant.verify(verifyCtx(target))).toMatchObject({ verified: true });
    expect((await revokeKmsGrant.run(runCtx(target))).detail).toMatch(/nothing to revoke/);
  });

  it('remove-lambda-permission: RemovePermission by the statement id; GetPolicy then answers ResourceNotFoundException (no policy)', async () => {
    await lambdaFunction('invoice-export');
    await moto.aws
      .lambdaAdmin(region)
      .send(
        new AddPermissionCommand({ FunctionName: 'invoice-export', StatementId: 'open', Action: 'lambda:InvokeFunction', Principal: '*' }),
      );
    const target = 'invoice-export open * lambda:InvokeFunction';
    expect((await removeLambdaPermission.verify(verifyCtx(target))).verified).toBe(false);
    const sentNow = watchSent();
    const out = await removeLambdaPermission.run(runCtx(target));
    expect(sentNow('RemovePermissionCommand').map((s) => s.input)).toEqual([{ FunctionName: 'invoice-export', StatementId: 'open' }]);
    expect(out.status).toBe('done');
    await expect(moto.aws.lambdaAdmin(region).send(new GetPolicyCommand({ FunctionName: 'invoice-export' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    expect(await removeLambdaPermission.verify(verifyCtx(target))).toMatchObject({ verified: true });
  });

  it('require-function-url-auth: UpdateFunctionUrlConfig AuthType AWS_IAM keeps the URL; GetFunctionUrlConfig reads it back', async () => {
    await lambdaFunction('public-url');
    const lambda = moto.aws.lambdaAdmin(region);
    const { FunctionUrl } = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'public-url', AuthType: 'NONE' }));
    expect((await requireFunctionUrlAuth.verify(verifyCtx('public-url'))).verified).toBe(false);
    const out = await requireFunctionUrlAuth.run(runCtx('public-url'));
    expect(out.undo).toEqual(['aws lambda update-function-url-config --function-name public-url --auth-type NONE --region us-east-1']);
    expect(await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'public-url' }))).toMatchObject({
      AuthType: 'AWS_IAM',
      FunctionUrl,
    });
    expect(await requireFunctionUrlAuth.verify(verifyCtx('public-url'))).toMatchObject({ verified: true });
    // No URL at all (a function without one): ResourceNotFoundException is "nothing to close", verified.
    await lambdaFunction('no-url');
    expect(await requireFunctionUrlAuth.verify(verifyCtx('no-url'))).toMatchObject({ verified: true });
  });

  it('disassociate-resource-share: GetResourceShareAssociations (moto) shows the outside principal; the disassociation names exactly it', async () => {
    const { resourceShare } = await moto.aws
      .ramAdmin(region)
      .send(new CreateResourceShareCommand({ name: 'subnets', principals: ['444455556666'], allowExternalPrincipals: true }));
    const target = `${resourceShare!.resourceShareArn!} 444455556666`;
    expect(await disassociateResourceShare.verify(verifyCtx(target))).toEqual({
      verified: false,
      reason: `GetResourceShareAssociations: resource share ${resourceShare!.resourceShareArn!} in us-east-1 is still shared with 444455556666`,
    });
    const sentNow = watchSent();
    const out = await disassociateResourceShare.run(runCtx(target));
    expect(sentNow('DisassociateResourceShareCommand').map((s) => [s.to, s.input])).toEqual([
      ['stub', { resourceShareArn: resourceShare!.resourceShareArn!, principals: ['444455556666'] }],
    ]);
    expect(out.undo).toEqual([
      `aws ram associate-resource-share --resource-share-arn ${resourceShare!.resourceShareArn!} --principals 444455556666 --region us-east-1`,
    ]);
  });

  itKeepsTheManifestHonest(__filename);
});
