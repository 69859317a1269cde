import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ConfirmSubscriptionCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ApprovalStore } from '#shared/approval-store';
import { PasskeyStore } from '#shared/passkeys';
import { enroll, RespondersDocumentSchema } from '#shared/responders';
import type { CommandIO } from './triage-command';
import { respondersSecretId, stackName } from '#infra/names.cjs';

/**
 * `root-responder responders add EMAIL --name NAME --stage STAGE [--dry-run]`: enroll a responder.
 * Prints the otpauth:// URI once (put it in the responder's authenticator, in person or over a
 * channel the attacker cannot read) and stores the secret in the stage's Secrets Manager secret
 * `root-responder/<stage>/responders`, created if missing. The secret never goes through
 * CloudFormation, the environment or a log.
 *
 * `root-responder responders unlock EMAIL --stage STAGE`: end a responder's lockout (too many wrong
 * codes) at once, after making sure with them that it was not someone else guessing.
 *
 * `root-responder confirm-subscription --topic ARN --token TOKEN`: confirm an SNS email subscription
 * with AuthenticateOnUnsubscribe, so the unsubscribe link in every email (which mail scanners open)
 * cannot silently remove a responder.
 */
export interface RespondersDeps {
  secrets: () => Pick<SecretsManagerClient, 'send'>;
  sns: () => Pick<SNSClient, 'send'>;
  dynamodb?: () => Pick<DynamoDBClient, 'send'> & Pick<DynamoDBDocumentClient, 'send'>;
  now?: () => Date;
}

/**
 * The stage's approvals table: CloudFormation names it `<stack>-ApprovalsTable-<suffix>`, so the
 * one table with that prefix (ListTables), or the one --table names.
 */
async function approvalsTable(deps: RespondersDeps, stage: string): Promise<string[]> {
  const prefix = `${stackName(stage)}-ApprovalsTable-`;
  const found: string[] = [];
  let start: string | undefined;
  do {
    const out = await deps.dynamodb!().send(new ListTablesCommand({ ...(start ? { ExclusiveStartTableName: start } : {}) }));
    found.push(...(out.TableNames ?? []).filter((t) => t.startsWith(prefix)));
    start = out.LastEvaluatedTableName;
  } while (start);
  return found;
}

/** `responders unlock EMAIL --stage S [--table NAME]`: end a responder's lockout. */
async function unlockCommand(args: string[], io: CommandIO, deps: RespondersDeps): Promise<number> {
  const email = args[1];
  const stage = option(args, '--stage');
  if (!email || email.startsWith('--') || !stage || !/^[a-z0-9-]+$/.test(stage)) {
    io.stderr('usage: root-responder responders unlock EMAIL --stage STAGE [--table APPROVALS_TABLE]');
    return 2;
  }
  if (!deps.dynamodb) {
    io.stderr('responders unlock: no DynamoDB client');
    return 1;
  }
  const tables = option(args, '--table') ? [option(args, '--table')!] : await approvalsTable(deps, stage);
  if (tables.length !== 1) {
    io.stderr(
      `responders unlock: ${tables.length ? `several approvals tables (${tables.join(', ')})` : `no approvals table of ${stackName(stage)} in this region`}: name it with --table`,
    );
    return 1;
  }
  const table = tables[0]!;
  const now = deps.now?.() ?? new Date();
  const store = new ApprovalStore(deps.dynamodb(), table);
  const lockout = await store.responderLockout(email, now);
  await store.unlockResponder(email, now);
  io.stdout(
    lockout
      ? `Unlocked ${email} (locked until ${lockout.until} after ${lockout.failures} wrong codes). If they did not make those attempts, someone holding an approval link was guessing.`
      : `${email} was not locked out; their wrong-code count is reset.`,
  );
  return 0;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function respondersCommand(args: string[], io: CommandIO, deps: RespondersDeps): Promise<number> {
  const [sub, email] = args;
  if (sub === 'unlock') return unlockCommand(args, io, deps);
  if (sub !== 'add' || !email || email.startsWith('--')) {
    io.stderr(
      'usage: root-responder responders add EMAIL --name NAME --stage STAGE [--passkey --url APPROVALS_BASE_URL] [--dry-run] | responders unlock EMAIL --stage STAGE',
    );
    return 2;
  }
  const name = option(args, '--name') ?? email;
  const stage = option(args, '--stage');
  if (!stage || !/^[a-z0-9-]+$/.test(stage)) {
    io.stderr('responders add: --stage STAGE is required (the stage you deployed, e.g. prod)');
    return 2;
  }
  const passkey = args.includes('--passkey');
  const base = option(args, '--url')?.replace(/\/+$/, '');
  if (passkey && (!base || !/^https:\/\/[^/]+$|^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?$/.test(base))) {
    io.stderr('responders add --passkey: --url APPROVALS_BASE_URL is required (the stack output ApprovalsBaseUrl, https://...)');
    return 2;
  }
  const secretId = respondersSecretId(stage);
  const { responder, otpauthUri } = enroll(email, name);
  const dryRun = args.includes('--dry-run');
  /** The one-time enrollment link, printed once (stored as its hash in the approvals table). */
  const passkeyLink = async (): Promise<number> => {
    if (dryRun) {
      io.stdout('Passkey enrollment link not created (--dry-run).');
      return 0;
    }
    if (!deps.dynamodb) {
      io.stderr('responders add --passkey: no DynamoDB client');
      return 1;
    }
    const tables = option(args, '--table') ? [option(args, '--table')!] : await approvalsTable(deps, stage);
    if (tables.length !== 1) {
      io.stderr(`responders add --passkey: ${tables.length} approvals tables of ${stackName(stage)} found: name one with --table`);
      return 1;
    }
    const { token, expiresAt } = await new PasskeyStore(deps.dynamodb(), tables[0]!).createEnrollment(email, deps.now?.() ?? new Date());
    io.stdout(
      `Passkey enrollment link for ${email} (works once, until ${expiresAt}; give it to them over a channel the attacker cannot read):`,
    );
    io.stdout(`${base}/passkeys/${token}`);
    return 0;
  };
  let doc = { responders: [] as (typeof responder)[] };
  let exists = true;
  if (!dryRun) {
    try {
      const out = await deps.secrets().send(new GetSecretValueCommand({ SecretId: secretId }));
      doc = RespondersDocumentSchema.parse(JSON.parse(out.SecretString ?? '{"responders":[]}'));
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') {
        io.stderr(`responders add: cannot read ${secretId}: ${(error as Error).name}: ${(error as Error).message}`);
        return 1;
      }
      exists = false;
    }
  }
  // Already enrolled: --passkey adds a passkey to their authenticator code.
  if (passkey && doc.responders.some((r) => r.email.toLowerCase() === email.toLowerCase())) return passkeyLink();
  if (doc.responders.some((r) => r.email.toLowerCase() === email.toLowerCase())) {
    io.stderr(`responders add: ${email} is already enrolled in ${secretId}; remove them first to issue a new secret`);
    return 2;
  }
  const next = JSON.stringify({ responders: [...doc.responders, responder] });
  if (!dryRun) {
    if (exists) await deps.secrets().send(new PutSecretValueCommand({ SecretId: secretId, SecretString: next }));
    else
      await deps.secrets().send(
        new CreateSecretCommand({
          Name: secretId,
          SecretString: next,
          Description: 'root-responder: enrolled responders and their TOTP secrets',
        }),
      );
  }
  io.stdout(
    `${dryRun ? 'Not stored (--dry-run). ' : `Stored in ${secretId}. `}Add this to ${email}'s authenticator now; it is not shown again:`,
  );
  io.stdout(otpauthUri);
  return passkey ? passkeyLink() : 0;
}

export async function confirmSubscriptionCommand(args: string[], io: CommandIO, deps: RespondersDeps): Promise<number> {
  const topic = option(args, '--topic');
  const token = option(args, '--token');
  if (!topic || !token) {
    io.stderr(
      'usage: root-responder confirm-subscription --topic TOPIC_ARN --token TOKEN   (TOKEN: the Token parameter of the confirmation link)',
    );
    return 2;
  }
  const out = await deps.sns().send(new ConfirmSubscriptionCommand({ TopicArn: topic, Token: token, AuthenticateOnUnsubscribe: 'true' }));
  io.stdout(`Confirmed ${out.SubscriptionArn ?? 'the subscription'}; unsubscribing now needs AWS credentials, not a click.`);
  return 0;
}
