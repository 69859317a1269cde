import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ConfirmSubscriptionCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { confirmSubscriptionCommand, respondersCommand } from '#cli/responders-command';
import { currentCode, totpStep } from '#shared/responders';
import { ApprovalStore, newApprovalId } from '#shared/approval-store';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';
import { PasskeyStore } from '#shared/passkeys';

const sm = mockClient(SecretsManagerClient);
const sns = mockClient(SNSClient);
const deps = { secrets: () => new SecretsManagerClient({}), sns: () => new SNSClient({}) };
const io = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l), readStdin: () => Promise.resolve('') } };
};

beforeEach(() => {
  sm.reset();
  sns.reset();
});

describe('responders add', () => {
  it('creates the stage secret on first use and prints the otpauth URI once', async () => {
    sm.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: 'no', $metadata: {} }));
    sm.on(CreateSecretCommand).resolves({});
    const t = io();
    expect(await respondersCommand(['add', 'alice@example.com', '--name', 'Alice', '--stage', 'prod'], t.io, deps)).toBe(0);
    const created = sm.commandCalls(CreateSecretCommand)[0]!.args[0].input;
    expect(created.Name).toBe('root-responder/prod/responders');
    const doc = JSON.parse(created.SecretString!) as { responders: { email: string; name: string; totpSecret: string }[] };
    expect(doc.responders).toHaveLength(1);
    expect(doc.responders[0]).toMatchObject({ email: 'alice@example.com', name: 'Alice' });
    const uri = t.out.find((l) => l.startsWith('otpauth://'))!;
    expect(uri).toContain(`secret=${doc.responders[0]!.totpSecret}`);
    // The enrolled secret produces codes the approval page accepts.
    const now = new Date('2026-01-01T00:00:00Z');
    expect(totpStep(doc.responders[0]!, currentCode(doc.responders[0]!, now), now)).toBe(Math.floor(now.getTime() / 30_000));
  });

  it('appends to an existing secret and refuses a second enrollment of the same email', async () => {
    const existing = { responders: [{ email: 'bob@example.com', name: 'Bob', totpSecret: 'JBSWY3DPEHPK3PXPJBSWY3DP' }] };
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(existing) });
    sm.on(PutSecretValueCommand).resolves({});
    expect(await respondersCommand(['add', 'alice@example.com', '--stage', 'prod'], io().io, deps)).toBe(0);
    expect(
      (JSON.parse(sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input.SecretString!) as typeof existing).responders.map(
        (r) => r.email,
      ),
    ).toEqual(['bob@example.com', 'alice@example.com']);
    const t = io();
    expect(await respondersCommand(['add', 'BOB@example.com', '--stage', 'prod'], t.io, deps)).toBe(2);
    expect(t.err[0]).toMatch(/already enrolled/);
  });

  it('needs a stage', async () => {
    const t = io();
    expect(await respondersCommand(['add', 'alice@example.com'], t.io, deps)).toBe(2);
    expect(sm.calls()).toHaveLength(0);
  });
});

describe('confirm-subscription', () => {
  it('confirms with AuthenticateOnUnsubscribe', async () => {
    sns.on(ConfirmSubscriptionCommand).resolves({ SubscriptionArn: 'arn:aws:sns:us-east-1:1:t:abc' });
    expect(await confirmSubscriptionCommand(['--topic', 'arn:aws:sns:us-east-1:1:t', '--token', 'tok'], io().io, deps)).toBe(0);
    expect(sns).toHaveReceivedCommandWith(ConfirmSubscriptionCommand, {
      TopicArn: 'arn:aws:sns:us-east-1:1:t',
      Token: 'tok',
      AuthenticateOnUnsubscribe: 'true',
    });
  });
});

describe('responders unlock', () => {
  it("ends a responder's lockout in the stage's approvals table (found by its CloudFormation name)", async () => {
    const db = new SimulatedDynamoDb();
    const table = 'root-responder-prod-ApprovalsTable-1A2B3C';
    const store = new ApprovalStore(db as never, table);
    const now = new Date('2026-01-01T00:00:00Z');
    for (let link = 0; link < 2; link++) {
      const id = newApprovalId();
      for (let i = 0; i < 5; i++) {
        const r = await store.reserveAttempt(id, 'alice@example.com', '2026-01-02T00:00:00Z', now);
        if ('reserved' in r) await store.wrongCode(r.reserved, 'alice@example.com', now);
      }
    }
    expect(await store.responderLocked('alice@example.com', now)).toBe(true);
    const dynamodb = () => ({
      send: (command: unknown) =>
        (command as object).constructor.name === 'ListTablesCommand'
          ? Promise.resolve({ TableNames: ['root-responder-dev-ApprovalsTable-XYZ', table, 'other'] })
          : db.send(command),
    });
    const t = io();
    expect(
      await respondersCommand(['unlock', 'alice@example.com', '--stage', 'prod'], t.io, {
        ...deps,
        dynamodb,
        now: () => now,
      }),
    ).toBe(0);
    expect(t.out.join('\n')).toContain('Unlocked alice@example.com (locked until 2026-01-01T00:15:00.000Z after 10 wrong codes)');
    expect(await store.responderLocked('alice@example.com', now)).toBe(false);
    expect('reserved' in (await store.reserveAttempt(newApprovalId(), 'alice@example.com', '2026-01-02T00:00:00Z', now))).toBe(true);
    expect(await respondersCommand(['unlock', 'alice@example.com'], io().io, deps)).toBe(2);
  });
});

describe('responders add --passkey', () => {
  it('prints a one-time enrollment link whose token only the approvals table knows, hashed', async () => {
    const existing = { responders: [{ email: 'bob@example.com', name: 'Bob', totpSecret: 'JBSWY3DPEHPK3PXPJBSWY3DP' }] };
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(existing) });
    const db = new SimulatedDynamoDb();
    const table = 'root-responder-prod-ApprovalsTable-1A2B3C';
    const dynamodb = () => ({
      send: (command: unknown) =>
        (command as object).constructor.name === 'ListTablesCommand' ? Promise.resolve({ TableNames: [table] }) : db.send(command),
    });
    const now = new Date('2026-01-01T00:00:00Z');
    const t = io();
    const args = ['add', 'bob@example.com', '--stage', 'prod', '--passkey', '--url', 'https://abc.execute-api.us-east-1.amazonaws.com'];
    expect(await respondersCommand(args, t.io, { ...deps, dynamodb, now: () => now })).toBe(0);
    // Bob was enrolled already: his TOTP secret is untouched, he gets the link only.
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    const link = t.out.find((l) => l.startsWith('https://'))!;
    const token = /^https:\/\/abc\.execute-api\.us-east-1\.amazonaws\.com\/passkeys\/([A-Za-z0-9_-]{43})$/.exec(link)![1]!;
    expect(JSON.stringify(db.items(table))).not.toContain(token);
    const store = new PasskeyStore(db as never, table);
    expect(await store.enrollment(token, now)).toMatchObject({ email: 'bob@example.com', expiresAt: '2026-01-02T00:00:00.000Z' });
    // Without --url it says what it needs.
    const e = io();
    expect(await respondersCommand(['add', 'bob@example.com', '--stage', 'prod', '--passkey'], e.io, deps)).toBe(2);
    expect(e.err.join('')).toContain('--url');
  });
});
