import type { IAMClient } from '@aws-sdk/client-iam';
import type { TargetClients } from '../clients';
import type { Clock } from '../clock';
import type { LimiterPool } from '../rate-limit';
import type { StepStatus } from '../contracts/common';

/**
 * One remediation the responder can run: what it needs, how it runs, how it is checked and how a
 * person takes it back. `remediations/index.ts` lists every entry; Run Approved Action, Verify
 * Human Task, Request Approval, Assess Incident and the IAM roles all read them from there, so a
 * new remediation is its own file in this folder and its line in that list.
 */
export interface Remediation<A extends string = string> {
  action: A;
  /** Where it runs: the target account (its own role or the member write role), an AssumeRoot session, or the organization (the responder's own account). */
  runsIn: 'target-account' | 'root-session' | 'organization';
  /** The IAM actions each phase calls. `run` joins Run Approved Action's role (and the member write role), `verify` Verify Human Task's, `undo` Write Incident Report's when it undoes it itself. */
  permissions: { run: readonly string[]; verify: readonly string[]; undo?: readonly string[] };
  /** Whether a person can take the change back exactly (undoSteps says how). */
  reversible: boolean;
  /** How many different responders must approve it. */
  approvals: 1 | 2;
  /** Make the change (idempotent: a second run changes nothing and says so). */
  run(ctx: RunContext): Promise<RunOutcome>;
  /** Re-read what the change left, by API. `null`: nothing an API can see. */
  verify(ctx: VerifyContext): Promise<{ verified: boolean | null; reason: string }>;
  /** How a person undoes it (commands or console steps), before it ran: the approval page and the report. */
  undoSteps(ref: RemediationRef): string[];
}

/**
 * What a remediation is without its code: Assess Incident, Request Approval and the roles read only
 * this, so their bundles carry no SDK client for it (esbuild drops the unused entries, which
 * defineRemediation's pure annotation allows).
 */
export type RemediationMeta<A extends string = string> = Pick<
  Remediation<A>,
  'action' | 'runsIn' | 'permissions' | 'reversible' | 'approvals'
>;

/** A registry entry: its metadata (exported on its own too) and its code. */
export function defineRemediation<A extends string>(
  meta: RemediationMeta<A>,
  code: Pick<Remediation<A>, 'run' | 'verify' | 'undoSteps'>,
): Remediation<A> {
  return { ...meta, ...code };
}

/** What a plan's remediation names. */
export interface RemediationRef {
  accountId: string;
  target: string;
  region: string;
}

export interface Baseline {
  alternateContacts: Partial<
    Record<'BILLING' | 'OPERATIONS' | 'SECURITY', { name?: string; title?: string; emailAddress?: string; phoneNumber?: string }>
  >;
}

export interface RunContext extends RemediationRef {
  /** The target account: its own role, or the member's write role. */
  clients: TargetClients;
  /** The responder's own account: AssumeRoot and Organizations (SCPs are managed from the management account or a delegated administrator). */
  responder: TargetClients;
  member: boolean;
  clock: Clock;
  baseline: Baseline;
  /** CloudTrail's 2 calls/s per account and region, shared with every step that looks events up. */
  limiters: LimiterPool;
  /** An IAM client under an AssumeRoot delete session in the member account (recorded as this responder's own). */
  rootSession(): Promise<Pick<IAMClient, 'send'>>;
}

export interface RunOutcome {
  status: StepStatus;
  detail: string;
  /** The exact steps that undo what ran (overrides undoSteps, e.g. naming the keys it deactivated). */
  undo?: string[];
}

export interface VerifyContext extends RemediationRef {
  /** The target account (read role). */
  clients: TargetClients;
  /** The responder's own account (Organizations). */
  responder: TargetClients;
  clock: Clock;
  baseline: Baseline;
  /** CloudTrail's 2 calls/s per account and region, shared with every step that looks events up. */
  limiters: LimiterPool;
  /** What Run Approved Action reported. */
  ran: { detail: string };
}
