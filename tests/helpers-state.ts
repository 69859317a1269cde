import type { ActionResult } from '#shared/contracts/action-result';
import type { AssessmentSummary } from '#shared/contracts/assessment';
import type { Containment } from '#shared/contracts/containment';
import type { EvidenceCollection } from '#shared/contracts/evidence-collection';
import type { ExecutionInput } from '#shared/contracts/execution-input';
import type { RootSnapshot } from '#shared/contracts/snapshot';
import type { TaskVerification } from '#shared/contracts/task-verification';
import type { Verification } from '#shared/contracts/verification';

/**
 * Step inputs and results for tests, typed by the contracts in functions/shared/contracts/: a
 * changed contract breaks these (and every test built on them) at compile time, not at run time.
 * Each builder fills a complete, plain result; a test overrides what it is about.
 */

export function executionInput(overrides: Partial<ExecutionInput> = {}): ExecutionInput {
  const accountId = overrides.accountId ?? '111122223333';
  return {
    incidentId: 'i',
    accountId,
    region: 'us-east-1',
    openedAt: '2024-03-04T10:00:00.000Z',
    source: 'cloudtrail',
    unparsed: false,
    trigger: {
      eventId: 'c1b2a3d4-0000-4000-8000-000000000001',
      eventName: 'ConsoleLogin',
      eventSource: 'signin.amazonaws.com',
      accountId,
      sourceIPAddress: '198.51.100.7',
      isRoot: true,
      benign: false,
      startsIncident: true,
      severity: 'critical',
      categories: ['sign-in'],
      reasons: ['Root signed in to the console.'],
      eventTime: '2024-03-04T10:00:00.000Z',
      parsed: true,
    },
    settings: { approvalWaitSeconds: 3600, maxReminders: 3 },
    ...overrides,
  };
}

/** Snapshot Root Credentials' output: by default a GetAccountSummary snapshot of a root with MFA and no keys. */
export function rootSnapshot(overrides: Partial<Omit<RootSnapshot, 'root'>> & { root?: Partial<RootSnapshot['root']> } = {}): RootSnapshot {
  const { root, ...rest } = overrides;
  return {
    step: 'snapshot-root-credentials',
    status: 'done',
    accountId: '111122223333',
    method: 'account-summary',
    takenAt: '2024-03-04T10:00:05.000Z',
    root: {
      accessKeysPresent: false,
      accessKeys: null,
      signingCertificatesPresent: null,
      signingCertificates: null,
      mfaEnabled: true,
      mfaDevices: [],
      passwordPresent: null,
      ...root,
    },
    notVisible: [],
    unexpectedMfaDevices: [],
    ownSessionAccessKeyId: null,
    detail: 'ok',
    ...rest,
  };
}

/** Contain Root Credentials' output: by default done, with nothing to delete. */
export function containment(overrides: Partial<Containment> = {}): Containment {
  return {
    step: 'contain-root-credentials',
    status: 'done',
    accountId: '111122223333',
    detail: '',
    blockedBy: null,
    actions: [],
    before: null,
    ownSessionAccessKeyId: null,
    cutOff: '',
    ...overrides,
  };
}

/** Collect Evidence's output: by default done, having found nothing. */
export function evidenceCollection(overrides: Partial<EvidenceCollection> = {}): EvidenceCollection {
  return {
    step: 'collect-evidence',
    status: 'done',
    detail: 'ok',
    window: { contextStart: '2024-02-26T10:00:00.000Z', incidentStart: '2024-03-04T10:00:00.000Z', end: '2024-03-04T12:00:00Z' },
    regions: ['us-east-1'],
    review: { calls: 1, throttled: 0, events: 0, windowEvents: 0, queries: [] },
    counts: { findings: 0, remediations: 0, signIns: 0 },
    keys: { findings: 'findings.json', signIns: 'sign-ins.json' },
    accountState: {
      accountName: null,
      alternateContacts: {},
      organizationId: null,
      trails: [],
      guardDutyEnabledRegions: [],
      unavailable: [],
    },
    evidence: { location: 'mem://', manifestSha256: 'abc', manifestVersionId: null, files: 3 },
    ...overrides,
  };
}

/** Assess Incident's output: by default a critical incident with an empty plan. */
export function assessmentSummary(overrides: Partial<AssessmentSummary> = {}): AssessmentSummary {
  return {
    step: 'assess-incident',
    status: 'done',
    severity: 'critical',
    steps: {
      snapshot: { status: 'done', detail: '' },
      containment: { status: 'done', detail: '' },
      evidence: { status: 'done', detail: '' },
    },
    counts: { findings: 0, remediations: 0, tasks: 0 },
    evidence: null,
    stored: {
      location: 'mem://assessment/',
      manifestSha256: 'abc',
      manifestVersionId: null,
      files: 2,
      keys: { findings: 'findings.json', plan: 'plan.json' },
    },
    plan: { askWasItYou: false, closesOnConfirmation: false, gate: [], tasks: [] },
    ...overrides,
  };
}

/** Verify Incident's output: by default done, nothing arrived late. */
export function verification(overrides: Partial<Verification> = {}): Verification {
  return {
    step: 'verify-incident',
    status: 'done',
    detail: '',
    lateEvents: 0,
    lateFindings: 0,
    keys: { lateFindings: 'late-findings.json' },
    evidence: { location: 'mem://', manifestSha256: 'def', manifestVersionId: null, files: 2 },
    ...overrides,
  };
}

/** A step that says it is not built yet (each top-level step's contract allows it). */
export function notImplemented<const Step extends string>(step: Step): { step: Step; status: 'not-implemented'; detail: string } {
  return { step, status: 'not-implemented', detail: 'later' };
}

/** Run Approved Action's output for a task. */
export function actionResult(taskId: string, overrides: Partial<ActionResult> = {}): ActionResult {
  return {
    step: 'run-approved-action',
    status: 'done',
    taskId,
    action: null,
    undo: [],
    target: null,
    detail: '',
    at: '2024-03-04T11:00:00.000Z',
    ...overrides,
  };
}

/** Verify Human Task's output for a task. */
export function taskVerification(taskId: string, overrides: Partial<TaskVerification> = {}): TaskVerification {
  return {
    step: 'verify-human-task',
    status: 'done',
    taskId,
    verified: true,
    reason: '',
    checkedAt: '2024-03-04T11:00:00.000Z',
    ...overrides,
  };
}
