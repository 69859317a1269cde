import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, InvalidBaselineError } from './errors';
import { localContext } from './local-context';
import { MEMBER_READ_ROLE, MEMBER_WRITE_ROLE } from '#infra/names.cjs';

/**
 * Configuration, parsed once and frozen. Three layers:
 * - the stage file `config/<stage>.json` (what an operator writes; validated by `StageConfigSchema`,
 *   read by serverless.yml at package time and by a test for every file in config/);
 * - the Lambda environment that serverless.yml derives from it (`RuntimeConfigSchema`): names,
 *   ARNs and settings of a fixed size;
 * - the baseline (`BaselineSchema`): what grows with the organization (expected root MFA devices
 *   per account, alternate contacts, organization id), written by the stack at deploy time as one
 *   S3 object in the config bucket whose key carries its SHA-256 (`baseline/<sha256>.json`), read
 *   once per invocation by the functions that compare against it (functions/shared/baseline.ts).
 *   Lambda's environment is 4 KB in all; the baseline passed it at about 18 accounts.
 * A missing or malformed value names itself.
 */
const email = z.email();
const cidr = z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'a CIDR such as 203.0.113.0/24');

const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region name such as eu-west-1');

const ContactSchema = z.strictObject({
  name: z.string().min(1),
  title: z.string().min(1),
  emailAddress: email,
  phoneNumber: z.string().min(1),
});

export const StageConfigSchema = z.strictObject({
  $comment: z.string().optional(),
  mode: z.enum(['standalone', 'organization']),
  responders: z.array(z.strictObject({ name: z.string().min(1), email })).min(1),
  escalation: z.array(z.strictObject({ name: z.string().min(1), email })).default([]),
  knownSourceCidrs: z.array(cidr).default([]),
  expectedAlternateContacts: z
    .strictObject({ BILLING: ContactSchema.optional(), OPERATIONS: ContactSchema.optional(), SECURITY: ContactSchema.optional() })
    .default({}),
  expectedOrganizationId: z
    .string()
    .regex(/^o-[a-z0-9]{10,32}$/)
    .nullable()
    .default(null),
  /** Per account id: the serial numbers (or ARNs) of the root MFA devices you registered. Any other is a critical finding. */
  expectedRootMfaDevices: z.record(z.string().regex(/^\d{12}$/), z.array(z.string().min(1)).max(8)).default({}),
  approvalExpiryHours: z.number().int().min(1).max(168).default(24),
  reminderIntervalMinutes: z.number().int().min(1).max(1440).default(60),
  maxReminders: z.number().int().min(0).max(10).default(3),
  evidenceRetentionDays: z.number().int().min(1).max(3650).default(365),
  objectLockMode: z.enum(['COMPLIANCE', 'GOVERNANCE']),
  logRetentionDays: z.number().int().default(365),
  /**
   * The regions the forwarding rules are deployed to (us-east-1, where the responder runs, always
   * among them). An enabled region missing here is reported by the pipeline check.
   */
  forwardingRegions: z
    .array(region)
    .min(1)
    .default(['us-east-1'])
    .refine((regions) => regions.includes('us-east-1'), 'must include us-east-1, where the responder runs')
    .refine((regions) => new Set(regions).size === regions.length, 'lists a region twice'),
  /**
   * The deny-all-root SCP of a member account in an incident: attached after two responders approve
   * (`approval`), or at once (`automatic`: AssumeRoot sessions are spared, and it comes off when the
   * incident closes).
   */
  denyRootScp: z.enum(['approval', 'automatic']).default('approval'),
  /** How often every account and region sends the canary event through the forwarding path. */
  canaryIntervalMinutes: z.number().int().min(5).max(60).default(15),
  /** How often the alert digest summarises an incident's later root activity (the first root use alerts at once). */
  alertDigestMinutes: z.number().int().min(1).max(60).default(15),
});
export type StageConfig = z.infer<typeof StageConfigSchema>;

const csv = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );
const int = (min: number) => z.coerce.number().int().min(min);

const BASELINE_KEY_PATTERN = /^baseline\/([0-9a-f]{64})\.json$/;

export const RuntimeConfigSchema = z.object({
  STAGE: z.string().min(1),
  INCIDENTS_TABLE: z.string().min(1),
  APPROVALS_TABLE: z.string().min(1),
  STATE_MACHINE_ARN: z.string().regex(/^arn:aws[a-z-]*:states:/, 'a Step Functions state machine ARN'),
  ALERT_TOPIC_ARN: z.string().regex(/^arn:aws[a-z-]*:sns:/, 'an SNS topic ARN'),
  RESPONDERS_TOPIC_ARN: z.string().regex(/^arn:aws[a-z-]*:sns:/, 'an SNS topic ARN'),
  ESCALATION_TOPIC_ARN: z.string().regex(/^arn:aws[a-z-]*:sns:/, 'an SNS topic ARN'),
  EVIDENCE_BUCKET: z.string().min(3),
  /** The Secrets Manager secret holding the enrolled responders and their TOTP secrets. */
  RESPONDERS_SECRET_ID: z.string().min(1),
  APPROVALS_BASE_URL: z.url(),
  KNOWN_SOURCE_CIDRS: csv.pipe(z.array(cidr)),
  APPROVAL_EXPIRY_HOURS: int(1),
  REMINDER_INTERVAL_SECONDS: int(1),
  MAX_REMINDERS: int(0),
  MODE: z.enum(['standalone', 'organization']).default('standalone'),
  /** The stage config's denyRootScp: attach a member's deny-root SCP after approval, or at once. */
  DENY_ROOT_SCP: z.enum(['approval', 'automatic']).default('approval'),
  /** The account this responder runs in (CloudFormation's AWS::AccountId). */
  RESPONDER_ACCOUNT_ID: z.string().regex(/^\d{12}$/, 'a 12-digit account id'),
  /** In organization mode, the read-only role the responder assumes in member accounts. */
  MEMBER_READ_ROLE_NAME: z.string().default(MEMBER_READ_ROLE),
  /** In organization mode, the narrowly scoped role that approved remediations use in member accounts. */
  MEMBER_WRITE_ROLE_NAME: z.string().default(MEMBER_WRITE_ROLE),
  /** The bucket the stack writes the baseline object to. */
  BASELINE_BUCKET: z.string().min(3),
  /** The baseline object's key: `baseline/<SHA-256 of its content>.json`. */
  BASELINE_OBJECT: z.string().regex(BASELINE_KEY_PATTERN, 'baseline/<64 hex digits>.json'),
  /** The regions the forwarding rules (and their canaries) are deployed to. */
  FORWARDING_REGIONS: z
    .string()
    .default('us-east-1')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(region).min(1)),
  CANARY_INTERVAL_MINUTES: z.coerce.number().int().min(1).default(15),
  /** The alert digest's interval: one digest per incident per interval. */
  ALERT_DIGEST_MINUTES: z.coerce.number().int().min(1).default(15),
});
export type RuntimeConfig = Readonly<z.infer<typeof RuntimeConfigSchema>>;

function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}

/** Parse the Lambda environment. Throws ConfigError naming every bad or missing variable. */
export function parseRuntimeConfig(env: Record<string, string | undefined>): RuntimeConfig {
  const result = RuntimeConfigSchema.safeParse(env);
  if (!result.success) {
    const issues = issuesOf(result.error);
    throw new ConfigError(`Invalid environment: ${issues.join('; ')}`, issues);
  }
  return Object.freeze(result.data);
}

/** Parse a stage file's content. Throws ConfigError naming every bad field. */
export function parseStageConfig(value: unknown, source: string): StageConfig {
  const result = StageConfigSchema.safeParse(value);
  if (!result.success) {
    const issues = issuesOf(result.error);
    throw new ConfigError(`${source}: ${issues.join('; ')}`, issues);
  }
  return Object.freeze(result.data);
}

let cached: RuntimeConfig | undefined;
const perDrill = new WeakMap<object, RuntimeConfig>();

/**
 * The runtime config of this Lambda, parsed at first use (cold start) and kept. In a drill each
 * invocation carries its own environment (see local-context.ts), parsed once per drill.
 */
export function runtimeConfig(): RuntimeConfig {
  const drill = localContext<{ env?: Record<string, string> }>();
  if (drill?.env) {
    let config = perDrill.get(drill);
    if (!config) perDrill.set(drill, (config = parseRuntimeConfig(drill.env)));
    return config;
  }
  cached ??= parseRuntimeConfig(process.env);
  return cached;
}

/**
 * The baseline: what the responder compares an account with, per account where it is per account.
 * Contacts in the Account API's field names (lower camel case), as GetAlternateContact returns them.
 */
export const BaselineSchema = z.strictObject({
  /** The BILLING / OPERATIONS / SECURITY contacts you expect; a difference is a finding and a proposed restore. */
  expectedAlternateContacts: z.partialRecord(
    z.enum(['BILLING', 'OPERATIONS', 'SECURITY']),
    z.strictObject({
      name: z.string().optional(),
      title: z.string().optional(),
      emailAddress: z.string().optional(),
      phoneNumber: z.string().optional(),
    }),
  ),
  expectedOrganizationId: z.string().nullable(),
  /** Account id -> the root MFA devices registered there (serial numbers or ARNs). */
  expectedRootMfaDevices: z.record(z.string().regex(/^\d{12}$/), z.array(z.string().min(1))),
});
export type Baseline = Readonly<z.infer<typeof BaselineSchema>>;

/** The baseline a stage file declares. */
export function baselineOf(stage: StageConfig): Baseline {
  return {
    expectedAlternateContacts: Object.fromEntries(
      Object.entries(stage.expectedAlternateContacts).map(([type, c]) => [
        type,
        { name: c.name, title: c.title, emailAddress: c.emailAddress, phoneNumber: c.phoneNumber },
      ]),
    ),
    expectedOrganizationId: stage.expectedOrganizationId,
    expectedRootMfaDevices: stage.expectedRootMfaDevices,
  };
}

/** The object the stack writes: its content (JSON) and its key, `baseline/<SHA-256 of the content>.json`. */
export function baselineObject(baseline: Baseline): { key: string; body: string } {
  const body = JSON.stringify(baseline);
  return { key: `baseline/${createHash('sha256').update(body, 'utf8').digest('hex')}.json`, body };
}

/**
 * Parse the baseline object read back from `key`: its SHA-256 must be the one its key names (what
 * the stack wrote, not a later change to the object), its content a valid baseline. Throws
 * InvalidBaselineError naming what is wrong.
 */
export function parseBaseline(body: string, key: string): Baseline {
  const expected = BASELINE_KEY_PATTERN.exec(key)?.[1];
  const actual = createHash('sha256').update(body, 'utf8').digest('hex');
  if (expected !== actual)
    throw new InvalidBaselineError(`The baseline object ${key} does not hold what the stack wrote (its SHA-256 is ${actual})`, ['digest']);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new InvalidBaselineError(`The baseline object ${key} is not JSON`, ['(root): not JSON']);
  }
  const result = BaselineSchema.safeParse(value);
  if (!result.success) {
    const issues = issuesOf(result.error);
    throw new InvalidBaselineError(`The baseline object ${key} is invalid: ${issues.join('; ')}`, issues);
  }
  return Object.freeze(result.data);
}
