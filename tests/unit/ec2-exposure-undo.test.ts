import {
  DescribeImageAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
  EC2ServiceException,
  ModifyImageAttributeCommand,
  RevokeSecurityGroupIngressCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { fixedClock } from '#shared/clock';
import { AccessDeniedError } from '#shared/errors';
import { RateLimiters, virtualTimer } from '#shared/rate-limit';
import { removeLaunchPermission, revokeSecurityGroupIngress, stopInstances } from '#shared/remediations/ec2-exposure';
import type { RunContext, VerifyContext } from '#shared/remediations/types';
import { sdkTargetClients } from '../helpers-mock';

/**
 * The EC2 undos against the SDK's own client, mocked: EC2 raises its ServiceException named by the
 * error code (InvalidPermission.NotFound, UnauthorizedOperation), which the entries tell apart by name.
 */
const ec2 = mockClient(EC2Client);
const ec2Error = (name: string) => new EC2ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message: name });
const clients = sdkTargetClients();
const base = {
  accountId: '444455556666',
  region: 'us-east-1',
  clients,
  responder: clients,
  clock: fixedClock('2024-03-04T11:00:00Z'),
  baseline: { alternateContacts: {} },
  limiters: new RateLimiters(2, virtualTimer()),
};
const runCtx = (target: string): RunContext => ({
  ...base,
  target,
  member: true,
  rootSession: () => Promise.reject(new Error('no root session here')),
});
const verifyCtx = (target: string): VerifyContext => ({ ...base, target, ran: { detail: '' } });
const rule = {
  SecurityGroupRuleId: 'sgr-1',
  GroupId: 'sg-1',
  IsEgress: false,
  IpProtocol: 'tcp',
  FromPort: 22,
  ToPort: 22,
  CidrIpv6: '::/0',
};

beforeEach(() => ec2.reset());

describe('revoke-security-group-ingress (mocked EC2)', () => {
  it('revokes the rule ids still present; a rule gone meanwhile (InvalidSecurityGroupRuleId.NotFound) is not a failure', async () => {
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [rule] });
    ec2.on(RevokeSecurityGroupIngressCommand).rejects(ec2Error('InvalidSecurityGroupRuleId.NotFound'));
    const out = await revokeSecurityGroupIngress.run(runCtx('sg-1 sgr-1'));
    expect(out.status).toBe('done');
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand).map((c) => c.args[0].input)).toEqual([
      { GroupId: 'sg-1', SecurityGroupRuleIds: ['sgr-1'] },
    ]);
  });

  it('refused (UnauthorizedOperation): a typed access-denied error, never "done"', async () => {
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [rule] });
    ec2.on(RevokeSecurityGroupIngressCommand).rejects(ec2Error('UnauthorizedOperation'));
    await expect(revokeSecurityGroupIngress.run(runCtx('sg-1 sgr-1'))).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it('verify: not verified while the rule is there, verified once it is gone', async () => {
    ec2
      .on(DescribeSecurityGroupRulesCommand)
      .resolvesOnce({ SecurityGroupRules: [rule] })
      .resolves({ SecurityGroupRules: [] });
    expect((await revokeSecurityGroupIngress.verify(verifyCtx('sg-1 tcp/22:22/::/0'))).verified).toBe(false);
    expect((await revokeSecurityGroupIngress.verify(verifyCtx('sg-1 tcp/22:22/::/0'))).verified).toBe(true);
  });
});

describe('remove-launch-permission (mocked EC2)', () => {
  it('removes only the grantees still there, verified by DescribeImageAttribute', async () => {
    ec2
      .on(DescribeImageAttributeCommand)
      .resolvesOnce({ ImageId: 'ami-1', LaunchPermissions: [{ Group: 'all' }] })
      .resolves({ ImageId: 'ami-1', LaunchPermissions: [] });
    ec2.on(ModifyImageAttributeCommand).resolves({});
    const out = await removeLaunchPermission.run(runCtx('ami-1 all,111122223333'));
    expect(ec2.commandCalls(ModifyImageAttributeCommand).map((c) => c.args[0].input)).toEqual([
      { ImageId: 'ami-1', LaunchPermission: { Remove: [{ Group: 'all' }] } },
    ]);
    expect(out.undo).toEqual([
      "aws ec2 modify-image-attribute --image-id ami-1 --launch-permission 'Add=[{Group=all}]' --region us-east-1",
    ]);
    expect(await removeLaunchPermission.verify(verifyCtx('ami-1 all,111122223333'))).toEqual({
      verified: true,
      reason: 'DescribeImageAttribute: AMI ami-1 in us-east-1 is not shared with everyone (all), 111122223333',
    });
  });

  it('an AMI deregistered meanwhile (InvalidAMIID.NotFound): nothing to remove, and nothing left to verify', async () => {
    ec2.on(DescribeImageAttributeCommand).rejects(ec2Error('InvalidAMIID.NotFound'));
    expect((await removeLaunchPermission.run(runCtx('ami-1 all'))).detail).toBe(
      'AMI ami-1 no longer exists in us-east-1: nothing to remove.',
    );
    expect(ec2.commandCalls(ModifyImageAttributeCommand)).toEqual([]);
    expect((await removeLaunchPermission.verify(verifyCtx('ami-1 all'))).verified).toBe(true);
  });
});

describe('stop-instances (mocked EC2)', () => {
  it('stops the running instances only, never terminates; verify reads stopping/stopped', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce({
        Reservations: [
          {
            Instances: [
              { InstanceId: 'i-1', State: { Name: 'running' } },
              { InstanceId: 'i-2', State: { Name: 'stopped' } },
            ],
          },
        ],
      })
      .resolves({
        Reservations: [
          {
            Instances: [
              { InstanceId: 'i-1', State: { Name: 'stopping' } },
              { InstanceId: 'i-2', State: { Name: 'stopped' } },
            ],
          },
        ],
      });
    ec2.on(StopInstancesCommand).resolves({ StoppingInstances: [{ InstanceId: 'i-1', CurrentState: { Name: 'stopping' } }] });
    const out = await stopInstances.run(runCtx('i-1,i-2'));
    expect(ec2.commandCalls(StopInstancesCommand).map((c) => c.args[0].input)).toEqual([{ InstanceIds: ['i-1'] }]);
    expect(out.undo).toEqual(['aws ec2 start-instances --instance-ids i-1 --region us-east-1']);
    expect(await stopInstances.verify(verifyCtx('i-1,i-2'))).toEqual({
      verified: true,
      reason: 'DescribeInstances: i-1 stopping, i-2 stopped in us-east-1',
    });
  });
});
