import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ConfirmSubscriptionCommand, type SNSClient } from '@aws-sdk/client-sns';
import { enroll, RespondersDocumentSchema } from '#shared/responders';
import type { CommandIO } from './triage-command';
import { respondersSecretId } from '#infra/names.cjs';

/**
 * `root-responder responders add EMAIL --name NAME --stage STAGE [--dry-run]`: enroll a responder.
 * Prints the otpauth:// URI once (put it in the responder's authenticator, in person or over a
 * channel the attacker cannot read) and stores the secret in the stage's Secrets Manager secret
 * `root-responder/<stage>/responders`, created if missing. The secret never goes through
 * CloudFormation, the environment or a log.
 *
 * `root-responder confirm-subscription --topic ARN --token TOKEN`: confirm an SNS email subscription
 * with AuthenticateOnUnsubscribe, so the unsubscribe link in every email (which mail scanners open)
 * cannot silently remove a responder.
 */
export interface RespondersDeps {
  secrets: () => Pick<SecretsManagerClient, 'send'>;
  sns: () => Pick<SNSClient, 'send'>;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function respondersCommand(args: string[], io: CommandIO, deps: RespondersDeps): Promise<number> {
  const [sub, email] = args;
  if (sub !== 'add' || !email || email.startsWith('--')) {
    io.stderr('usage: root-responder responders add EMAIL --name NAME --stage STAGE [--dry-run]');
    return 2;
  }
  const name = option(args, '--name') ?? email;
  const stage = option(args, '--stage');
  if (!stage || !/^[a-z0-9-]+$/.test(stage)) {
    io.stderr('responders add: --stage STAGE is required (the stage you deployed, e.g. prod)');
    return 2;
  }
  const secretId = respondersSecretId(stage);
  const { responder, otpauthUri } = enroll(email, name);
  const dryRun = args.includes('--dry-run');
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
  return 0;
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
