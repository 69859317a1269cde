import { expect } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutAlternateContactCommand } from '@aws-sdk/client-account';
import { CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { PutRuleCommand } from '@aws-sdk/client-eventbridge';
import { CreateDetectorCommand } from '@aws-sdk/client-guardduty';
import { GetAccountSummaryCommand, ListAccessKeysCommand, ListVirtualMFADevicesCommand, type VirtualMFADevice } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutObjectLockConfigurationCommand } from '@aws-sdk/client-s3';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import type { TargetClients } from '#shared/clients';
import { FORWARDED_RULES, forwardingRuleName } from '#shared/forwarding';
import type { AuditClients } from '#cli/audit';
import { auditCommand } from '#cli/audit-command';
import { ACCOUNT, describeMoto, ROOT_STAND_IN, useMoto } from './moto';

/**
 * `root-responder audit` end to end against moto: a well-prepared account passes every check (exit
 * 0); a neglected one fails each check with its reason and fix (exit 1); a refused read is unknown,
 * never a pass. moto has no root user: root's summary fields and MFA devices are read from the IAM
 * user that stands in for root (ROOT_STAND_IN), and whether root's MFA is a FIDO2 key (which moto
 * cannot create) is said by the test. account:ListRegions is stubbed by the layer (moto lacks it).
 */
const STAGE = 'audited';
const REGIONS = ['us-east-1', 'eu-west-1'];
const CONTACT = (type: string) => ({
  name: `${type} team`,
  title: type,
  emailAddress: `${type.toLowerCase()}@acme.example`,
  phoneNumber: '+1-206-555-0100',
});

function configDir(objectLockMode: 'COMPLIANCE' | 'GOVERNANCE'): string {
  const dir = mkdtempSync(join(tmpdir(), 'audit-config-'));
  writeFileSync(
    join(dir, `${STAGE}.json`),
    JSON.stringify({
      mode: 'standalone',
      responders: [{ name: 'On call', email: 'oncall@acme.example' }],
      objectLockMode,
      expectedAlternateContacts: { SECURITY: CONTACT('SECURITY'), OPERATIONS: CONTACT('OPERATIONS'), BILLING: CONTACT('BILLING') },
    }),
  );
  return dir;
}

describeMoto('contract: root-responder audit against moto', () => {
  const moto = useMoto();
  let out: string[];
  const io = { stdout: (line: string) => out.push(line), stderr: (line: string) => out.push(line), readStdin: () => Promise.resolve('') };

  /** The account's IAM as the audit sees root: the stand-in user's MFA and keys are root's. */
  function clients(rootMfa: 'fido2' | 'virtual' | 'none', refuse: string[] = []): AuditClients {
    const target = moto.aws.target();
    const refusing = <T extends { send: (c: never) => Promise<unknown> }>(client: T): T =>
      ({
        send: async (command: { constructor: { name: string } }) => {
          if (refuse.includes(command.constructor.name))
            throw Object.assign(new Error(`User is not authorized to perform ${command.constructor.name}`), {
              name: 'AccessDeniedException',
              $metadata: { httpStatusCode: 403 },
            });
          return (client.send as (c: unknown) => Promise<unknown>)(command);
        },
      }) as unknown as T;
    const iam = target.iam();
    const rootIam = {
      send: async (command: { constructor: { name: string }; input: unknown }) => {
        const answer = (await iam.send(command as never)) as unknown as Record<string, unknown>;
        if (command instanceof GetAccountSummaryCommand) {
          const keys = (await moto.aws.iamAdmin().send(new ListAccessKeysCommand({ UserName: ROOT_STAND_IN }))).AccessKeyMetadata ?? [];
          const map = {
            ...(answer['SummaryMap'] as Record<string, number>),
            AccountMFAEnabled: rootMfa === 'none' ? 0 : 1,
            AccountAccessKeysPresent: keys.length > 0 ? 1 : 0,
          };
          return { ...answer, SummaryMap: map };
        }
        if (command instanceof ListVirtualMFADevicesCommand) {
          const devices = (answer['VirtualMFADevices'] as VirtualMFADevice[] | undefined) ?? [];
          return {
            ...answer,
            VirtualMFADevices: devices.map((d) =>
              d.User?.UserName === ROOT_STAND_IN ? { ...d, User: { ...d.User, Arn: `arn:aws:iam::${ACCOUNT}:root` } } : d,
            ),
          };
        }
        return answer;
      },
    };
    const wrapped: TargetClients = { ...target, iam: () => rootIam as never, guardduty: (region) => refusing(target.guardduty(region)) };
    return {
      target: wrapped,
      sns: () => moto.aws.snsAdmin(),
      s3: () => moto.aws.s3Admin(),
      scheduler: (region) => new SchedulerClient(moto.aws.config(region)),
    };
  }

  const deps = (rootMfa: 'fido2' | 'virtual' | 'none', lockMode: 'COMPLIANCE' | 'GOVERNANCE', refuse: string[] = []) => ({
    clients: () => clients(rootMfa, refuse),
    accountId: () => Promise.resolve(ACCOUNT),
    configDir: configDir(lockMode),
  });

  async function prepare(options: { broken: boolean }): Promise<void> {
    const aws = moto.aws;
    aws.stub(ACCOUNT, { regions: REGIONS });
    await aws.seedRoot(ACCOUNT, { accessKeys: options.broken ? 1 : 0, mfa: options.broken, password: true });
    for (const type of ['SECURITY', 'OPERATIONS', 'BILLING'] as const) {
      const c = options.broken && type === 'SECURITY' ? { ...CONTACT(type), emailAddress: 'attacker@evil.example' } : CONTACT(type);
      await aws.accountAdmin().send(
        new PutAlternateContactCommand({
          AlternateContactType: type,
          Name: c.name,
          Title: c.title,
          EmailAddress: c.emailAddress,
          PhoneNumber: c.phoneNumber,
        }),
      );
    }
    await aws.s3Admin().send(new CreateBucketCommand({ Bucket: 'trail-logs' }));
    // Good: one multi-region trail, logging. Broken: only a single-region trail in eu-west-1.
    const trailRegion = options.broken ? 'eu-west-1' : 'us-east-1';
    await aws
      .cloudtrailAdmin(trailRegion)
      .send(new CreateTrailCommand({ Name: 'main', S3BucketName: 'trail-logs', IsMultiRegionTrail: !options.broken }));
    await aws.cloudtrailAdmin(trailRegion).send(new StartLoggingCommand({ Name: 'main' }));
    for (const region of REGIONS) {
      const broken = options.broken && region === 'eu-west-1';
      await aws.guarddutyAdmin(region).send(new CreateDetectorCommand({ Enable: !broken }));
      for (const id of FORWARDED_RULES) {
        await aws.eventsAdmin(region).send(
          new PutRuleCommand({
            Name: forwardingRuleName(STAGE, id),
            EventPattern: JSON.stringify({ source: ['aws.signin'] }),
            State: broken && id === 'RootApiCallRule' ? 'DISABLED' : 'ENABLED',
          }),
        );
      }
      if (!broken) {
        await new SchedulerClient(aws.config(region)).send(
          new CreateScheduleCommand({
            Name: `root-responder-${STAGE}-canary`,
            ScheduleExpression: 'rate(15 minutes)',
            FlexibleTimeWindow: { Mode: 'OFF' },
            Target: {
              Arn: `arn:aws:events:${region}:${ACCOUNT}:event-bus/default`,
              RoleArn: `arn:aws:iam::${ACCOUNT}:role/root-responder-${STAGE}-canary`,
            },
          }),
        );
      }
    }
    for (const topic of ['AlertTopic', 'RespondersTopic', 'EscalationTopic']) {
      const { TopicArn } = await aws.snsAdmin().send(new CreateTopicCommand({ Name: `root-responder-${STAGE}-${topic}-X1Y2Z3` }));
      await aws.snsAdmin().send(new SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint: 'oncall@acme.example' }));
    }
    const bucket = `root-responder-${STAGE}-evidencebucket-abc123`;
    await aws.s3Admin().send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    await aws.s3Admin().send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: options.broken ? 'GOVERNANCE' : 'COMPLIANCE', Days: 365 } },
        },
      }),
    );
  }

  beforeEach(async () => {
    out = [];
    await moto.reset();
  });

  it('a prepared account passes every check: exit 0', async () => {
    await prepare({ broken: false });
    const code = await auditCommand(['--stage', STAGE, '--json'], io, deps('fido2', 'COMPLIANCE'));
    const report = JSON.parse(out.join('\n')) as { checks: { id: string; status: string; detail: string }[] };
    expect(report.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(report.checks.map((c) => c.id)).toEqual([
      'root-mfa',
      'root-access-keys',
      'root-signing-certificates',
      'alternate-contacts',
      'cloudtrail',
      'guardduty',
      'centralized-root-access',
      'forwarding-rules',
      'canary',
      'sns-subscriptions',
      'evidence-bucket',
    ]);
    expect(code).toBe(0);
  });

  it('a neglected account fails each check with its reason and fix: exit 1', async () => {
    await prepare({ broken: true });
    const code = await auditCommand(['--stage', STAGE, '--json'], io, deps('virtual', 'COMPLIANCE'));
    const checks = Object.fromEntries(
      (JSON.parse(out.join('\n')) as { checks: { id: string; status: string; detail: string; fix?: string }[] }).checks.map((c) => [
        c.id,
        c,
      ]),
    );
    expect(code).toBe(1);
    expect(checks['root-mfa']).toMatchObject({ status: 'fail', detail: expect.stringContaining('virtual') });
    expect(checks['root-access-keys']).toMatchObject({ status: 'fail' });
    expect(checks['alternate-contacts']).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('SECURITY differs from the stage config in emailAddress'),
    });
    expect(checks['cloudtrail']).toMatchObject({ status: 'fail', detail: expect.stringContaining('No logging trail covers us-east-1') });
    expect(checks['guardduty']).toMatchObject({ status: 'fail', detail: expect.stringContaining('off in eu-west-1') });
    expect(checks['forwarding-rules']).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('eu-west-1 RootApiCallRule disabled'),
    });
    expect(checks['canary']).toMatchObject({ status: 'fail', detail: expect.stringContaining('eu-west-1') });
    expect(checks['evidence-bucket']).toMatchObject({ status: 'fail', detail: expect.stringContaining('GOVERNANCE') });
    for (const c of Object.values(checks).filter((c) => c.status === 'fail')) expect(c.fix).toEqual(expect.any(String));
    // The ones that hold still pass.
    expect(checks['root-signing-certificates']).toMatchObject({ status: 'pass' });
    expect(checks['sns-subscriptions']).toMatchObject({ status: 'pass' });
  });

  it('a refused read is unknown with the refusal named, never a pass; the text output says so', async () => {
    await prepare({ broken: false });
    const code = await auditCommand(['--stage', STAGE], io, deps('fido2', 'COMPLIANCE', ['ListDetectorsCommand']));
    expect(code).toBe(1);
    const text = out.join('\n');
    expect(text).toMatch(/\?\?\?\? {2}GuardDuty in every enabled region\n {6}Refused: guardduty:ListDetectors was refused/);
    expect(text).toContain('10 passed, 0 failed, 1 unknown.');
  });

  it('usage errors exit 2 and name the option', async () => {
    expect(await auditCommand(['--bogus'], io, deps('fido2', 'COMPLIANCE'))).toBe(2);
    expect(out.join('\n')).toContain('unknown option --bogus');
  });
});
