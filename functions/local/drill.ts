import './polyfills';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import { ApprovalStore } from '#shared/approval-store';
import { LocalDirReader, LocalDirWriter } from '#shared/evidence';
import { virtualTimer } from '#shared/rate-limit';
import { useLocalClients } from '#shared/clients';
import { resetRuntimeConfig } from '#shared/config';
import { ScenarioError } from '#shared/errors';
import { deployedFunctions, loadHandler, PROJECT_ROOT } from './deployment';
import { HEALTHY_DIGEST, type PipelineCheck } from '#functions/check-pipeline/check-pipeline';
import { IncidentStore } from '#shared/incident-store';
import { canaryEvent, toEventBridge } from './envelope';
import { type ExecutionEvent, type LocalExecution, LocalStepFunctions, type LocalStepFunctionsOptions } from './local-step-functions';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { flaky, type FlakyStats, seededRandom } from './flaky';
import { SimulatedDynamoDb } from './simulated-dynamodb';
import { type OutboxMessage, SimulatedSns } from './simulated-sns';
import { TaskTokenBroker } from './task-tokens';
import { loadScenario, type Scenario, scenarioRecords, scenarioWorld } from './scenario';
import { type Fault, SimulatedAws } from './simulated-aws';
import { respondOverHttp, startApprovalServer } from './approval-server';
import { currentCode, enroll } from '#shared/responders';

/**
 * The drill: a whole incident on this machine, no AWS account. Scenario events go through the
 * deployed intake handler; the real state machine file runs locally with every Task bound to its
 * deployed handler; DynamoDB, SNS and Step Functions are local stand-ins. With `approve: 'all'` a
 * simulated responder approves every link that reaches the responders' mailbox.
 */
export const DEFAULT_SCENARIO = 'unknown-ip-no-mfa';

const ACCOUNT = '999988887777';
const REGION = 'us-east-1';
export const DRILL_ENV = {
  STAGE: 'drill',
  INCIDENTS_TABLE: 'drill-incidents',
  APPROVALS_TABLE: 'drill-approvals',
  STATE_MACHINE_ARN: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:root-responder-drill`,
  ALERT_TOPIC_ARN: `arn:aws:sns:${REGION}:${ACCOUNT}:root-responder-drill-alerts`,
  RESPONDERS_TOPIC_ARN: `arn:aws:sns:${REGION}:${ACCOUNT}:root-responder-drill-responders`,
  ESCALATION_TOPIC_ARN: `arn:aws:sns:${REGION}:${ACCOUNT}:root-responder-drill-escalation`,
  EVIDENCE_BUCKET: 'root-responder-drill-evidence',
  RESPONDERS_SECRET_ID: 'root-responder/drill/responders',
  APPROVALS_BASE_URL: 'http://127.0.0.1:8787', // replaced by the drill's approval server address
  KNOWN_SOURCE_CIDRS: '',
  APPROVAL_EXPIRY_HOURS: '1',
  REMINDER_INTERVAL_SECONDS: '1',
  MAX_REMINDERS: '1',
  MODE: 'standalone',
  RESPONDER_ACCOUNT_ID: ACCOUNT,
  MEMBER_READ_ROLE_NAME: 'root-responder-read',
  MEMBER_WRITE_ROLE_NAME: 'root-responder-remediate',
  EXPECTED_ALTERNATE_CONTACTS: '{}',
  EXPECTED_ORGANIZATION_ID: '',
  EXPECTED_ROOT_MFA_DEVICES: '{}',
} as const;

export interface DrillOptions {
  scenario?: string;
  /**
   * all: the simulated responders approve every link over HTTP; reject-all: they reject; none: nobody
   * answers; interactive: a person opens the links in a browser (waits of 10 minutes).
   */
  approve: 'all' | 'none' | 'reject-all' | 'interactive';
  /** Called once the approval server runs and the demo responders are enrolled. */
  onReady?: (info: DrillReadyInfo) => void;
  /** Called with each approval link as it is mailed (interactive mode prints them). */
  onLink?: (link: string, subject: string) => void;
  /** Where report.json, report.md and evidence/ go (default drill-output/<scenario>). */
  out?: string;
  /** The drill's "now": scenario records are rebased to end a few minutes before it. */
  now?: Date;
  onEvent?: (execution: LocalExecution, event: ExecutionEvent) => void;
  onIntake?: (result: IntakeLine) => void;
  /** With approve 'all': the simulated responders do each console task before approving (default true). */
  consoleWork?: boolean;
  /** Faults the simulated AWS injects (fault tests). */
  faults?: Fault[];
  /** A seeded random fraction of all simulated AWS calls (DynamoDB and SNS included) fails transiently. */
  randomFaults?: { rate: number; seed: number };
  /** How long each approval waits before its reminder (default: 1 s, 3 s with several incidents, 600 s interactive). */
  approvalWaitSeconds?: number;
  /** Account+regions whose forwarding is broken: their canary never reaches intake (pipeline tests). */
  brokenForwarding?: { accountId: string; region: string }[];
  /** Replace a deployed handler (fault injection in tests). */
  handlerFor?: LocalStepFunctionsOptions['handlerFor'];
  /** Shorter Task timeouts by state name (a hung step times out in a second in tests). */
  taskTimeouts?: LocalStepFunctionsOptions['taskTimeouts'];
}

export interface DrillReadyInfo {
  approvalsBaseUrl: string;
  responders: { email: string; totpSecret: string }[];
  /** The accounts the scenario's root events happen in (more than one: one incident each). */
  accounts: string[];
}

export interface IntakeLine {
  eventName: string;
  eventTime: string | null;
  outcome: string;
  incidentId?: string;
  error?: string;
}

export interface DrillExecution {
  name: string;
  status: 'SUCCEEDED' | 'FAILED';
  error?: string;
  cause?: string;
  durationMs: number;
  statesEntered: string[];
  events: ExecutionEvent[];
  output?: unknown;
}

export interface DrillResult {
  scenario: string;
  /** The drill's enrolled demo responders and their TOTP secrets (drill only: printed so a person can decide). */
  responders: { email: string; totpSecret: string }[];
  approvalsBaseUrl: string;
  outDir: string;
  /**
   * Where each incident's report and evidence went: DIR itself when the scenario's records are in
   * one account, DIR/<incident id>/ when they span several (one incident per account).
   */
  reports: { incidentId: string; accountId: string; dir: string }[];
  /** The simulated AWS after the run: tests count changes and calls here. */
  aws: SimulatedAws;
  intake: IntakeLine[];
  executions: DrillExecution[];
  outbox: OutboxMessage[];
  approvals: { id: string; outcome: string; taskId?: string; error?: string }[];
  /**
   * The scheduled pipeline check, run once after the canaries of every watched account and region
   * went through intake (or how it failed: in AWS the next scheduled run tries again, and the
   * silent-forwarders alarm treats a missing run as breaching).
   */
  pipeline: PipelineCheck | { error: string };
  /** With random faults: what the DynamoDB and SNS stand-ins injected. */
  storeFaults?: { dynamodb: FlakyStats; sns: FlakyStats };
  wallMs: number;
}

/** The drill's two enrolled responders (the two-person rule applies in drills too). */
export const DEMO_RESPONDERS = ['alice@responders.example', 'bob@responders.example'] as const;

const APPROVAL_LINK_URL = /https?:\/\/127\.0\.0\.1:\d+\/approvals\/[A-Za-z0-9_-]{43}/;

export async function runDrill(options: DrillOptions): Promise<DrillResult> {
  const started = Date.now();
  const now = options.now ?? new Date();
  const { scenario, dir } = loadScenario(options.scenario ?? DEFAULT_SCENARIO);
  const records = scenarioRecords(scenario, dir, now);
  const world = scenarioWorld(scenario, records);
  const timer = virtualTimer(now.getTime());
  // The handlers' clients in AWS retry transient errors (maxAttempts 4); the drill's do too.
  const aws = new SimulatedAws(world, timer, 0, 4);
  for (const fault of options.faults ?? []) aws.inject(fault);
  if (options.randomFaults) aws.randomFaults(options.randomFaults);
  const outDir = prepareOutDir(resolve(options.out ?? join(PROJECT_ROOT, 'drill-output', scenario.name)));
  const accounts = [...new Set(records.map((r) => r.accountId))];
  const perIncident = accounts.length > 1;

  const approvalServer = await startApprovalServer((event) => loadHandler(deployedFunctions().get('approvals')!)(event) as never);
  const responders = DEMO_RESPONDERS.map((email, i) => enroll(email, ['Alice (drill)', 'Bob (drill)'][i]!).responder);
  // TOTP codes work once per responder and 30 s step; the drill's responders decide many tasks in
  // seconds, so the clock the codes are checked against moves one step per decision.
  options.onReady?.({ approvalsBaseUrl: approvalServer.baseUrl, responders: responders.map((r) => ({ email: r.email, totpSecret: r.totpSecret })), accounts });
  let totpNow = now.getTime();
  const totp = { now: () => (options.approve === 'interactive' ? new Date() : new Date(totpNow)), advance: () => (totpNow += 30_000) };
  Object.assign(process.env, DRILL_ENV, {
    APPROVALS_BASE_URL: approvalServer.baseUrl,
    // Several incidents at once share the simulated responders, who decide one link at a time.
    ...(options.approvalWaitSeconds !== undefined
      ? { REMINDER_INTERVAL_SECONDS: String(options.approvalWaitSeconds) }
      : options.approve === 'interactive'
        ? { REMINDER_INTERVAL_SECONDS: '600' }
        : perIncident
          ? { REMINDER_INTERVAL_SECONDS: '3' }
          : {}),
    KNOWN_SOURCE_CIDRS: scenario.knownSourceCidrs.join(','),
    MODE: scenario.mode,
    RESPONDER_ACCOUNT_ID: world.responderAccountId,
    EXPECTED_ALTERNATE_CONTACTS: JSON.stringify(
      Object.fromEntries(Object.entries(scenario.baseline.alternateContacts).map(([type, c]) => [type, { name: c?.Name, title: c?.Title, emailAddress: c?.EmailAddress, phoneNumber: c?.PhoneNumber }])),
    ),
    EXPECTED_ORGANIZATION_ID: scenario.baseline.expectedOrganizationId ?? '',
    EXPECTED_ROOT_MFA_DEVICES: JSON.stringify(scenario.baseline.expectedRootMfaDevices),
    // A drill models a deployment whose forwarding covers every region its accounts enabled.
    FORWARDING_REGIONS: [...new Set(['us-east-1', ...Object.values(world.accounts).flatMap((a) => a.enabledRegions)])].join(','),
    CANARY_INTERVAL_MINUTES: '15',
  });
  resetRuntimeConfig();
  const ddb = new SimulatedDynamoDb();
  const sns = new SimulatedSns();
  // With random faults, DynamoDB and SNS fail too (the harness's own reads use the stand-ins directly).
  const stores = options.randomFaults
    ? {
        ddb: flaky(ddb, { rate: options.randomFaults.rate, random: seededRandom(options.randomFaults.seed * 7919 + 1), isWrite: (c) => !(c instanceof GetCommand || c instanceof QueryCommand) }),
        sns: flaky(sns, { rate: options.randomFaults.rate, random: seededRandom(options.randomFaults.seed * 7919 + 2), isWrite: () => true }),
      }
    : undefined;
  const broker = new TaskTokenBroker();
  const sfn = new LocalStepFunctions({
    broker,
    stateMachineArn: DRILL_ENV.STATE_MACHINE_ARN,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.taskTimeouts ? { taskTimeouts: options.taskTimeouts } : {}),
    // Every AWS call a handler makes is attributed to its function (least-privilege tests read this).
    handlerFor: (fn, deployed) => {
      const handler = options.handlerFor ? options.handlerFor(fn, deployed) : deployed;
      return (event) => aws.runAs(fn, () => handler(event));
    },
  });
  useLocalClients({
    dynamodb: (stores?.ddb ?? ddb) as unknown as DynamoDBDocumentClient,
    sfn: sfn as unknown as SFNClient,
    sns: (stores?.sns ?? sns) as unknown as SNSClient,
    target: (target) => aws.targetClients(target),
    objectWriter: (prefix) => new LocalDirWriter(folderFor(outDir, prefix, perIncident)),
    objectReader: (prefix) => new LocalDirReader(folderFor(outDir, prefix, perIncident)),
    timer,
    responders: { find: async (email) => responders.find((r) => r.email === email.trim().toLowerCase()) },
    totpClock: totp,
    metricsSink: () => undefined,
  });

  const approvals: DrillResult['approvals'] = [];
  const decisions: Promise<void>[] = [];
  if (options.onLink) {
    const onLink = options.onLink;
    sns.onPublish((message) => {
      const link = APPROVAL_LINK_URL.exec(message.body)?.[0];
      if (link && message.topicArn === DRILL_ENV.RESPONDERS_TOPIC_ARN) onLink(link, message.subject);
    });
  }
  if (options.approve === 'interactive') {
    // A person decides in the browser: real TOTP time, so a code works once per 30 s per responder.
    totp.advance = () => (totpNow = Date.now());
  }
  if (options.approve === 'all' || options.approve === 'reject-all') {
    const store = new ApprovalStore(ddb as unknown as DynamoDBDocumentClient, DRILL_ENV.APPROVALS_TABLE);
    const decision = options.approve === 'all' ? 'approve' : 'reject';
    // One decision at a time, as people click: each moves the TOTP clock one step.
    let queue: Promise<unknown> = Promise.resolve();
    sns.onPublish((message) => {
      if (message.topicArn !== DRILL_ENV.RESPONDERS_TOPIC_ARN) return;
      const link = APPROVAL_LINK_URL.exec(message.body)?.[0];
      if (!link) return;
      const id = link.split('/').pop()!;
      const next = queue.then(async () => {
          // The simulated responder does the console work first, as a person would, then decides in
          // the approval page over HTTP (CSRF token, Origin, their TOTP code).
          const pending = await store.get(id);
          if (pending && decision === 'approve' && options.consoleWork !== false) doConsoleWork(aws, pending.accountId, pending.taskId, scenario.baseline.alternateContacts, Date.now());
          const outcomes: number[] = [];
          for (const responder of responders) {
            // A server error (AWS failing under the approvals function): the person submits the page again, twice.
            const code = () => {
              totp.advance();
              return currentCode(responder, totp.now());
            };
            const answer = await respondOverHttp(link, { email: responder.email, code, decision, comment: 'drill' }, { retriesOnServerError: 2 });
            outcomes.push(...answer.statuses);
            if (answer.status !== 202) break; // 202: recorded, a second responder is needed
          }
          return { taskId: pending?.taskId, statuses: outcomes };
        });
      queue = next.catch(() => undefined);
      decisions.push(
        next.then(
          (r) => {
            approvals.push({ id: id.slice(0, 6), outcome: `${decision} http ${r.statuses.join('+')}`, ...(r.taskId ? { taskId: r.taskId } : {}) });
          },
          (error: Error) => {
            approvals.push({ id: id.slice(0, 6), outcome: 'error', error: `${error.name}: ${error.message}` });
          },
        ),
      );
    });
  }

  try {
    const intake = loadHandler(deployedFunctions().get('intake')!);
    // The canary schedule of every watched account and region fires once, through the same intake.
    const watched = scenario.mode === 'organization' ? Object.values(world.accounts) : [world.accounts[world.responderAccountId] ?? Object.values(world.accounts)[0]!];
    const broken = (accountId: string, region: string) => options.brokenForwarding?.some((b) => b.accountId === accountId && b.region === region) ?? false;
    // EventBridge invokes intake asynchronously: Lambda retries a failed invocation twice.
    const invokeIntake = async (event: unknown): Promise<{ outcome: string; incidentId?: string }> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return (await intake(event)) as { outcome: string; incidentId?: string };
        } catch (error) {
          if (attempt >= 3) throw error;
        }
      }
    };
    for (const account of watched) {
      for (const region of account.enabledRegions) {
        // A canary lost for good is what the pipeline check is for; the drill goes on.
        if (!broken(account.accountId, region)) await invokeIntake(canaryEvent(account.accountId, region, new Date())).catch(() => undefined);
      }
    }
    // The check has been watching for a day, so a canary that did not come is late, not new.
    await new IncidentStore(ddb as unknown as DynamoDBDocumentClient, DRILL_ENV.INCIDENTS_TABLE).savePipelineHealth({ firstCheckAt: new Date(Date.now() - 86_400_000).toISOString(), digest: HEALTHY_DIGEST });
    const lines: IntakeLine[] = [];
    for (const event of records.map((r) => toEventBridge(r.record))) {
      const detail = event['detail'] as Record<string, unknown>;
      const line: IntakeLine = { eventName: String(detail['eventName'] ?? ''), eventTime: (detail['eventTime'] as string | undefined) ?? null, outcome: 'error' };
      try {
        const result = await invokeIntake(event);
        line.outcome = result.outcome;
        if (result.incidentId) line.incidentId = result.incidentId;
      } catch (error) {
        line.error = `${(error as Error).name}: ${(error as Error).message}`;
      }
      lines.push(line);
      options.onIntake?.(line);
    }

    const executions: DrillExecution[] = [];
    for (const execution of sfn.executions.values()) {
      const done = await execution.done;
      executions.push({
        name: execution.name,
        status: done.status,
        ...(done.error ? { error: done.error } : {}),
        ...(done.cause ? { cause: done.cause } : {}),
        durationMs: Date.now() - execution.startedAt,
        statesEntered: execution.events.filter((e) => e.type === 'StateEntered' && e.state).map((e) => e.state!),
        events: execution.events,
        output: done.output,
      });
    }
    await Promise.all(decisions);
    const pipeline = await aws
      .runAs('checkPipeline', () => loadHandler(deployedFunctions().get('checkPipeline')!)({}) as Promise<PipelineCheck>)
      .catch((error: Error) => ({ error: `${error.name}: ${error.message}` }));
    writeOutbox(join(outDir, 'outbox'), sns.outbox);
    const reports = executions.map((e) => ({ incidentId: e.name, accountId: e.name.slice(0, 12), dir: folderFor(outDir, `incidents/${e.name}/`, perIncident) }));
    return { scenario: scenario.name, responders: responders.map((r) => ({ email: r.email, totpSecret: r.totpSecret })), approvalsBaseUrl: approvalServer.baseUrl, outDir, reports, aws, intake: lines, executions, outbox: sns.outbox, approvals, pipeline, ...(stores ? { storeFaults: { dynamodb: stores.ddb.stats, sns: stores.sns.stats } } : {}), wallMs: Date.now() - started };
  } finally {
    useLocalClients(undefined);
    await approvalServer.close();
  }
}

/** A fresh output folder; an existing one is replaced only if it holds a previous drill's output. */
function prepareOutDir(dir: string): string {
  if (existsSync(dir)) {
    const entries = readdirSync(dir);
    const previousDrill = entries.length === 0 || entries.includes('report.json') || entries.includes('evidence') || entries.includes('outbox');
    if (!previousDrill) throw new ScenarioError(`--out ${dir} exists and is not a previous drill's output; choose another folder`);
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * incidents/<id>/evidence/ -> DIR/evidence, incidents/<id>/verification/ -> DIR/verification,
 * incidents/<id>/ -> DIR; with one incident per account, each under DIR/<id>/ instead.
 */
function folderFor(outDir: string, prefix: string, perIncident: boolean): string {
  const match = /^incidents\/([^/]+)\/(.*?)\/?$/.exec(prefix);
  const base = perIncident && match ? join(outDir, match[1]!) : outDir;
  const part = match?.[2] ?? '';
  return part ? join(base, part) : base;
}

/**
 * What a responder does in the console for a task, done to the simulated account, so that the
 * verification by API has something real to check. Remediations are not console work: they wait
 * for the responder's own code (not built yet) and stay unverified.
 */
function doConsoleWork(aws: SimulatedAws, accountId: string, taskId: string, baseline: Scenario['baseline']['alternateContacts'], now: number): void {
  const account = aws.world.accounts[accountId];
  if (!account) return;
  const at = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
  const log = (change: string) => aws.changes.push({ at: now, accountId, change: `console:${change}`, target: taskId });
  switch (taskId) {
    case 'delete-root-access-keys':
      account.root.accessKeys = [];
      account.root.signingCertificates = [];
      log('deleted root access keys and signing certificates');
      break;
    case 'enable-root-mfa':
      account.root.mfaDevices.push({ SerialNumber: `arn:aws:iam::${accountId}:u2f/root/drill-fido2-key`, kind: 'u2f', EnableDate: at });
      log('registered a FIDO2 security key for root');
      break;
    case 'change-root-password':
      (account.events['us-east-1'] ??= []).push({
        eventVersion: '1.08',
        eventID: `drill-password-${now}`,
        eventTime: at,
        eventSource: 'signin.amazonaws.com',
        eventName: 'PasswordUpdated',
        eventType: 'AwsConsoleSignIn',
        awsRegion: 'us-east-1',
        sourceIPAddress: '203.0.113.10',
        userIdentity: { type: 'Root', accountId, arn: `arn:aws:iam::${accountId}:root`, principalId: accountId },
        responseElements: { PasswordUpdated: 'Success' },
        recipientAccountId: accountId,
      });
      log('changed the root password');
      break;
    case 'review-billing-and-organization':
      for (const [type, contact] of Object.entries(baseline)) if (contact) account.alternateContacts[type as 'SECURITY'] = { ...contact };
      log('restored the alternate contacts');
      break;
    default:
      break;
  }
}

/** Every message as a file in DIR/outbox/, as a mailbox would hold it. */
function writeOutbox(dir: string, outbox: OutboxMessage[]): void {
  mkdirSync(dir, { recursive: true });
  outbox.forEach((message, i) => {
    const slug = message.subject.replace(/^\[root-responder\]\s*/, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60).toLowerCase();
    writeFileSync(join(dir, `${String(i + 1).padStart(3, '0')}-${slug}.txt`), `To: ${message.topicArn.split(':').pop()}\nSubject: ${message.subject}\nDate: ${message.at}\n\n${message.body}\n`);
  });
}
