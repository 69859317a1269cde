import { doReviewWork } from './simulated-review';
import { RateLimiters } from '#shared/rate-limit';
import './polyfills';
import { createHash } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, resolve, sep } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { S3Client } from '@aws-sdk/client-s3';
import { ApprovalStore, SESSION_MS } from '#shared/approval-store';
import type { ObjectReader, ObjectWriter } from '#shared/evidence';
import type { LocalClients } from '#shared/clients';
import { type Baseline, baselineObject, parseStageConfig } from '#shared/config';
import { LOCAL_CONTEXT_KEY } from '#shared/local-context';
import { MEMBER_READ_ROLE, MEMBER_WRITE_ROLE, respondersSecretId } from '#infra/names.cjs';
import { deployedFunctions, type Handler, loadHandler, PROJECT_ROOT } from './deployment';
import { HEALTHY_DIGEST, type PipelineCheck } from '#functions/check-pipeline/check-pipeline';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import { canaryEvent, toEventBridge } from './envelope';
import { type ExecutionEvent, type LocalExecution, LocalStepFunctions, type LocalStepFunctionsOptions } from './local-step-functions';
import { flaky, type FlakyStats, seededRandom } from './flaky';
import { isCommand, SimulatedDynamoDb } from './simulated-dynamodb';
import { type OutboxMessage, SimulatedSns } from './simulated-sns';
import { SimulatedS3 } from './simulated-s3';
import { policyConsoleWork } from './simulated-policies';
import { TaskTokenBroker } from './task-tokens';
import {
  duringTaskRecords,
  loadScenario,
  type RebasedRecord,
  type Scenario,
  ScenarioError,
  scenarioRecords,
  scenarioWorld,
  shiftRecords,
} from './scenario';
import { type Fault, SimulatedAws, type SimWorld } from './simulated-aws';
import { respondOverHttp, startApprovalServer } from './approval-server';
import { currentCode, enroll, type Responder } from '#shared/responders';
import { type DrillClock, RealClock, SimClock } from './sim-clock';
import { AWS_LIMITS, byteSize } from './aws-limits';
import { asText } from '#shared/text';

/**
 * The drill: a whole incident on this machine, no AWS account. Scenario events go through the
 * deployed intake handler; the real state machine file runs locally with every Task bound to its
 * deployed handler; DynamoDB, SNS and Step Functions are local stand-ins. With `approve: 'all'` a
 * simulated responder approves every link that reaches the responders' mailbox.
 */
export const DEFAULT_SCENARIO = 'unknown-ip-no-mfa';

const ACCOUNT = '999988887777';
const REGION = 'us-east-1';

/**
 * The production settings a drill runs with: config/example.json's approval expiry, reminder
 * interval and reminders (24 hours, 60 minutes, 3), on the drill's simulated clock.
 */
const PRODUCTION = parseStageConfig(JSON.parse(readFileSync(join(PROJECT_ROOT, 'config', 'example.json'), 'utf8')), 'config/example.json');

export const DRILL_ENV = {
  STAGE: 'drill',
  INCIDENTS_TABLE: 'drill-incidents',
  APPROVALS_TABLE: 'drill-approvals',
  STATE_MACHINE_ARN: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:root-responder-drill`,
  ALERT_TOPIC_ARN: `arn:aws:sns:${REGION}:${ACCOUNT}:root-responder-drill-alerts`,
  RESPONDERS_TOPIC_ARN: `arn:aws:sns:${REGION}:${ACCOUNT}:root-responder-drill-responders`,
  ESCALATION_TOPIC_ARN: `arn:aws:sns:${REGION}:${ACCOUNT}:root-responder-drill-escalation`,
  EVIDENCE_BUCKET: 'root-responder-drill-evidence',
  RESPONDERS_SECRET_ID: respondersSecretId('drill'),
  APPROVALS_BASE_URL: 'http://127.0.0.1:8787', // replaced by the drill's approval server address
  KNOWN_SOURCE_CIDRS: '',
  APPROVAL_EXPIRY_HOURS: String(PRODUCTION.approvalExpiryHours),
  REMINDER_INTERVAL_SECONDS: String(PRODUCTION.reminderIntervalMinutes * 60),
  MAX_REMINDERS: String(PRODUCTION.maxReminders),
  MODE: 'standalone',
  DENY_ROOT_SCP: 'approval',
  RESPONDER_ACCOUNT_ID: ACCOUNT,
  MEMBER_READ_ROLE_NAME: MEMBER_READ_ROLE,
  MEMBER_WRITE_ROLE_NAME: MEMBER_WRITE_ROLE,
  BASELINE_BUCKET: 'root-responder-drill-config',
  // An empty baseline's key; each drill run names its scenario's (the stack writes it, the functions read it).
  BASELINE_OBJECT: baselineObject({ expectedAlternateContacts: {}, expectedOrganizationId: null, expectedRootMfaDevices: {} }).key,
  CANARY_INTERVAL_MINUTES: String(PRODUCTION.canaryIntervalMinutes),
} as const;

/**
 * How the simulated responders (`--approve all` / `reject-all`) answer an approval email: after
 * `afterMinutes` of reading (default 3), as they do in the console what the task asks, then in the
 * approval page. Per task: answer only from the Nth reminder on, or never.
 */
export interface ResponsePlan {
  afterMinutes?: number;
  tasks?: Record<string, { afterMinutes?: number; fromReminder?: number; never?: boolean }>;
}

const DEFAULT_RESPONSE_MINUTES = 3;
const TOTP_STEP_MS = 30_000;

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
  /** Change the scenario's simulated accounts before the run (a test's variation of a scenario). */
  world?: (world: SimWorld) => void;
  /** Environment values the deployed functions get instead of the drill's (e.g. DENY_ROOT_SCP: 'automatic'). */
  env?: Record<string, string>;
  /** A seeded random fraction of all simulated AWS calls (DynamoDB and SNS included) fails transiently. */
  randomFaults?: { rate: number; seed: number };
  /** How long each approval waits before its reminder (default: the production setting, 60 minutes; interactive: 10 minutes). */
  approvalWaitSeconds?: number;
  /** How the simulated responders answer (default: the scenario's `responders`, else 3 minutes after each email). */
  responses?: ResponsePlan;
  /** Account+regions whose forwarding is broken: their canary never reaches intake (pipeline tests). */
  brokenForwarding?: { accountId: string; region: string }[];
  /** Replace a deployed handler (fault injection in tests); `clock` is the drill's, for a handler that hangs. */
  handlerFor?: (functionName: string, deployed: Handler, drill: { clock: DrillClock }) => Handler;
  /**
   * Change the config bucket after the stack wrote the scenario's baseline (a test deletes or
   * alters the object). `baseline`: where it is.
   */
  configBucket?: (s3: SimulatedS3, baseline: { bucket: string; key: string }) => void;
  /** Other Task timeouts by state name (seconds of the drill's clock). */
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
  /** Simulated time from start to end (real time in an interactive drill). */
  durationMs: number;
  /** The largest state input / output / task result it carried (AWS's limit is 262,144 bytes). */
  largestState: { bytes: number; where: string };
  historyEvents: number;
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
  /** Real time the drill took. */
  wallMs: number;
  /** Simulated time that passed (waits, reminders, reading time), and in how many jumps. */
  simulated: { ms: number; jumps: number };
}

/** The drill's two enrolled responders (the two-person rule applies in drills too). */
export const DEMO_RESPONDERS = ['alice@responders.example', 'bob@responders.example'] as const;

const APPROVAL_LINK_URL = /https?:\/\/127\.0\.0\.1:\d+\/approvals\/[A-Za-z0-9_-]{43}/;

/** The context every handler invocation of a drill runs in (see #shared/local-context). */
function contextHost(): AsyncLocalStorage<LocalClients> {
  const host = globalThis as unknown as Record<symbol, AsyncLocalStorage<LocalClients> | undefined>;
  return (host[LOCAL_CONTEXT_KEY] ??= new AsyncLocalStorage<LocalClients>());
}

/** Run `fn` (a handler invocation, say) with the given local clients and environment, as the drill does. */
export function inLocalContext<T>(context: LocalClients, fn: () => T): T {
  return contextHost().run(context, fn);
}

const DRILL_HORIZON_MS = 7 * 86_400_000;

export class DrillStalledError extends Error {
  constructor(waiting: string[], how = 'nothing is left to run and nobody will wake up') {
    super(`The drill is stuck (${how}): ${waiting.length} execution(s) still waiting: ${waiting.join(', ')}`);
    this.name = 'DrillStalledError';
  }
}

export async function runDrill(options: DrillOptions): Promise<DrillResult> {
  const started = Date.now();
  const now = options.now ?? new Date();
  const { scenario, dir } = loadScenario(options.scenario ?? DEFAULT_SCENARIO);
  const records = scenarioRecords(scenario, dir, now);
  const world = scenarioWorld(scenario, records);
  options.world?.(world);
  // A person in the loop decides in real time; everyone else runs on simulated time.
  const clock: DrillClock = options.approve === 'interactive' ? new RealClock() : new SimClock(now);
  // The handlers' clients in AWS retry transient errors (maxAttempts 4); the drill's do too.
  const aws = new SimulatedAws(world, clock.timer, 0, 4);
  for (const fault of options.faults ?? []) aws.inject(fault);
  if (options.randomFaults) aws.randomFaults(options.randomFaults);
  const outDir = prepareOutDir(resolve(options.out ?? join(PROJECT_ROOT, 'drill-output', scenario.name)));
  const accounts = [...new Set(records.map((r) => r.accountId))];
  // Later waves (afterEndMinutes): delivered after the executions before them ended, each wave in turn.
  const waves = [...new Set(records.filter((r) => r.wave).map((r) => r.wave!.n))].map((n) => records.filter((r) => r.wave?.n === n));
  // Several accounts, or an account compromised again: one folder per incident.
  const perIncident = accounts.length > 1 || waves.length > 0;
  const plan: ResponsePlan = options.responses ?? scenario.responders ?? {};
  // The simulated responders work from the first known network (203.0.113.10 when the scenario names none).
  const responderAddress = firstHost(scenario.knownSourceCidrs[0]) ?? '203.0.113.10';

  const host = contextHost();
  const approvalsHandler = loadHandler(deployedFunctions().get('approvals')!);
  // The approval server's requests run in this drill's context, whatever context accepted them.
  let context: LocalClients | undefined;
  const approvalServer = await startApprovalServer((event) => host.run(context!, () => approvalsHandler(event)) as never);
  const responders = DEMO_RESPONDERS.map((email, i) => enroll(email, ['Alice (drill)', 'Bob (drill)'][i]!).responder);
  options.onReady?.({
    approvalsBaseUrl: approvalServer.baseUrl,
    responders: responders.map((r) => ({ email: r.email, totpSecret: r.totpSecret })),
    accounts,
  });
  // The baseline, as the stack writes it: one object in the config bucket, named in the environment.
  const baseline: Baseline = {
    expectedAlternateContacts: Object.fromEntries(
      Object.entries(scenario.baseline.alternateContacts).map(([type, c]) => [
        type,
        { name: c?.Name, title: c?.Title, emailAddress: c?.EmailAddress, phoneNumber: c?.PhoneNumber },
      ]),
    ),
    expectedOrganizationId: scenario.baseline.expectedOrganizationId ?? null,
    expectedRootMfaDevices: scenario.baseline.expectedRootMfaDevices,
  };
  const baselineFile = baselineObject(baseline);
  const s3 = new SimulatedS3();
  s3.put(DRILL_ENV.BASELINE_BUCKET, baselineFile.key, baselineFile.body);
  options.configBucket?.(s3, { bucket: DRILL_ENV.BASELINE_BUCKET, key: baselineFile.key });
  const env: Record<string, string> = {
    ...DRILL_ENV,
    APPROVALS_BASE_URL: approvalServer.baseUrl,
    ...(options.approvalWaitSeconds !== undefined
      ? { REMINDER_INTERVAL_SECONDS: String(options.approvalWaitSeconds) }
      : options.approve === 'interactive'
        ? { REMINDER_INTERVAL_SECONDS: '600' }
        : {}),
    KNOWN_SOURCE_CIDRS: scenario.knownSourceCidrs.join(','),
    MODE: scenario.mode,
    RESPONDER_ACCOUNT_ID: world.responderAccountId,
    BASELINE_OBJECT: baselineFile.key,
    // A drill models a deployment whose forwarding covers every region its accounts enabled.
    FORWARDING_REGIONS: [...new Set(['us-east-1', ...Object.values(world.accounts).flatMap((a) => a.enabledRegions)])].join(','),
    ...options.env,
  };
  const ddb = new SimulatedDynamoDb();
  const sns = new SimulatedSns(() => clock.now());
  // With random faults, DynamoDB and SNS fail too (the harness's own reads use the stand-ins directly).
  const stores = options.randomFaults
    ? {
        ddb: flaky(ddb, {
          rate: options.randomFaults.rate,
          random: seededRandom(options.randomFaults.seed * 7919 + 1),
          isWrite: (c) => !(isCommand(c, 'GetCommand') || isCommand(c, 'QueryCommand')),
        }),
        sns: flaky(sns, {
          rate: options.randomFaults.rate,
          random: seededRandom(options.randomFaults.seed * 7919 + 2),
          isWrite: () => true,
        }),
      }
    : undefined;
  const broker = new TaskTokenBroker();
  const sfn = new LocalStepFunctions({
    broker,
    clock,
    stateMachineArn: DRILL_ENV.STATE_MACHINE_ARN,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.taskTimeouts ? { taskTimeouts: options.taskTimeouts } : {}),
    // Every AWS call a handler makes is attributed to its function (least-privilege tests read this).
    handlerFor: (fn, deployed) => {
      const handler = options.handlerFor ? options.handlerFor(fn, deployed, { clock }) : deployed;
      return (event) => aws.runAs(fn, () => handler(event));
    },
  });
  context = {
    env,
    dynamodb: (stores?.ddb ?? ddb) as unknown as DynamoDBDocumentClient,
    sfn: sfn as unknown as SFNClient,
    sns: (stores?.sns ?? sns) as unknown as SNSClient,
    s3: s3 as unknown as S3Client,
    target: (target) => aws.targetClients(target),
    objectWriter: (prefix) => new DrillFolderWriter(folderFor(outDir, prefix, perIncident)),
    objectReader: (prefix) => new DrillFolderReader(folderFor(outDir, prefix, perIncident)),
    clock,
    timer: clock.timer,
    // One meter for every function, as the deployed SharedMeter in the incidents table is.
    cloudTrailLimiters: new RateLimiters(2, clock.timer),
    responders: { find: (email) => Promise.resolve(responders.find((r) => r.email === email.trim().toLowerCase())) },
    metricsSink: () => undefined,
  };
  const drillContext = context;

  const approvals: DrillResult['approvals'] = [];
  const decisions: Promise<void>[] = [];
  if (options.onLink) {
    const onLink = options.onLink;
    sns.onPublish((message) => {
      const link = APPROVAL_LINK_URL.exec(message.body)?.[0];
      if (link && message.topicArn === DRILL_ENV.RESPONDERS_TOPIC_ARN) onLink(link, message.subject);
    });
  }
  if (options.approve === 'all' || options.approve === 'reject-all') {
    const store = new ApprovalStore(ddb, DRILL_ENV.APPROVALS_TABLE);
    const decision = options.approve === 'all' ? 'approve' : 'reject';
    // One person clicks at a time; each responder's authenticator shows a new code every 30 s and a
    // code works once, so a responder who already used this step's code waits for the next one.
    let clicking: Promise<unknown> = Promise.resolve();
    const lastStep = new Map<string, number>();
    const sessions = new Map<string, { cookie: string; incidentId: string; until: number }>();
    const codeFor = async (responder: Responder): Promise<string> => {
      const used = lastStep.get(responder.email) ?? -1;
      if (Math.floor(clock.nowMs() / TOTP_STEP_MS) <= used) await clock.until((used + 1) * TOTP_STEP_MS, 'next TOTP code');
      lastStep.set(responder.email, Math.floor(clock.nowMs() / TOTP_STEP_MS));
      return currentCode(responder, clock.now());
    };
    sns.onPublish((message) => {
      if (message.topicArn !== DRILL_ENV.RESPONDERS_TOPIC_ARN) return;
      const link = APPROVAL_LINK_URL.exec(message.body)?.[0];
      if (!link) return;
      const id = link.split('/').pop()!;
      const reminder = Number(/^Reminder (\d+) of/m.exec(message.body)?.[1] ?? 0);
      const next = (async () => {
        const pending = await store.get(id);
        const rule = (pending && plan.tasks?.[pending.taskId]) ?? {};
        if (rule.never || reminder < (rule.fromReminder ?? 0)) return undefined;
        // Reading the email and doing the console work take the responder a while.
        await clock.sleep((rule.afterMinutes ?? plan.afterMinutes ?? DEFAULT_RESPONSE_MINUTES) * 60_000, 'responder reading');
        const turn = clicking.then(async () => {
          // The simulated responder does the console work first, as a person would, then decides in
          // the approval page over HTTP (CSRF token, Origin, their TOTP code).
          if (pending && decision === 'approve' && options.consoleWork !== false) {
            doConsoleWork(aws, pending.accountId, pending.taskId, scenario.baseline.alternateContacts, clock.nowMs(), responderAddress);
            policyWork(aws, pending.accountId, pending.taskId, clock.nowMs(), responderAddress);
            // Whatever the scenario has an attacker do in the same window lands in CloudTrail too.
            for (const entry of scenario.duringTasks ?? [])
              if (entry.task === pending.taskId)
                for (const r of duringTaskRecords(entry, scenario, dir, new Date(clock.nowMs())))
                  (aws.world.accounts[r.accountId]?.events[r.region] ?? (aws.world.accounts[r.accountId]!.events[r.region] = [])).push(
                    r.record,
                  );
          }
          const outcomes: number[] = [];
          for (const responder of responders) {
            // Signed in for this incident (15 minutes from the code that signed them in): no new code.
            const held = sessions.get(responder.email);
            const session =
              held && pending && held.incidentId === pending.incidentId && clock.nowMs() < held.until ? held.cookie : undefined;
            const code = session ? '' : await codeFor(responder);
            const signedInAt = clock.nowMs();
            // A server error (AWS failing under the approvals function): the person submits the page again, twice.
            const answer = await clock.track(() =>
              respondOverHttp(
                link,
                { email: responder.email, code, decision, comment: 'drill', ...(session ? { session } : {}) },
                { retriesOnServerError: 2 },
              ),
            );
            if (answer.session && answer.session !== session && pending)
              sessions.set(responder.email, {
                cookie: answer.session,
                incidentId: pending.incidentId,
                until: signedInAt + SESSION_MS - 60_000,
              });
            outcomes.push(...answer.statuses);
            if (answer.status !== 202) break; // 202: recorded, a second responder is needed
          }
          return { taskId: pending?.taskId, statuses: outcomes };
        });
        clicking = turn.catch(() => undefined);
        return turn;
      })();
      decisions.push(
        next.then(
          (r) => {
            if (r)
              approvals.push({
                id: id.slice(0, 6),
                outcome: `${decision} http ${r.statuses.join('+')}`,
                ...(r.taskId ? { taskId: r.taskId } : {}),
              });
          },
          (error: Error) => {
            approvals.push({ id: id.slice(0, 6), outcome: 'error', error: `${error.name}: ${error.message}` });
          },
        ),
      );
    });
  }

  try {
    return await host.run(drillContext, async () => {
      const intake = loadHandler(deployedFunctions().get('intake')!);
      // The canary schedule of every watched account and region fires once, through the same intake.
      const watched =
        scenario.mode === 'organization'
          ? Object.values(world.accounts)
          : [world.accounts[world.responderAccountId] ?? Object.values(world.accounts)[0]!];
      const broken = (accountId: string, region: string) =>
        options.brokenForwarding?.some((b) => b.accountId === accountId && b.region === region) ?? false;
      // EventBridge invokes intake asynchronously: Lambda retries a failed invocation twice.
      const invokeIntake = async (event: unknown): Promise<{ outcome: string; incidentId?: string }> => {
        // An asynchronous invocation's payload is at most 256 KB (Lambda quotas): larger is refused, never run.
        const bytes = byteSize(event);
        if (bytes > AWS_LIMITS.asyncInvokeBytes)
          throw Object.assign(
            new Error(`Request must be smaller than ${AWS_LIMITS.asyncInvokeBytes} bytes for the async invocation (${bytes})`),
            { name: 'RequestTooLargeException' },
          );
        for (let attempt = 1; ; attempt++) {
          try {
            return (await aws.runAs('intake', () => intake(event))) as { outcome: string; incidentId?: string };
          } catch (error) {
            if (attempt >= 3) throw error;
          }
        }
      };
      const settled = new Set<string>();
      const sendCanaries = async () => {
        for (const account of watched) {
          for (const region of account.enabledRegions) {
            // A canary lost for good is what the pipeline check is for; the drill goes on.
            if (!broken(account.accountId, region))
              await invokeIntake(canaryEvent(account.accountId, region, clock.now())).catch(() => undefined);
          }
        }
      };
      await sendCanaries();
      // The canary schedule keeps firing while the incidents run, every CANARY_INTERVAL_MINUTES of the
      // drill's clock, until the last execution ends (then the pipeline check runs once).
      let running = true;
      let giveUp: (error: Error) => void = () => undefined;
      const horizon = new Promise<never>((_, reject) => {
        giveUp = reject;
      });
      horizon.catch(() => undefined);
      const canaries = (async () => {
        while (running) {
          await clock.sleep(Number(env['CANARY_INTERVAL_MINUTES']) * 60_000, 'canary schedule');
          // Every wait in the workflow ends within a day or so; a drill still running after a week of
          // its own time is stuck (the schedule would otherwise keep it going forever).
          if (running && clock.nowMs() - now.getTime() > DRILL_HORIZON_MS) {
            giveUp(
              new DrillStalledError(
                [...sfn.executions.values()].filter((e) => !settled.has(e.name)).map((e) => e.name),
                'after 7 days of simulated time',
              ),
            );
            return;
          }
          if (running) await sendCanaries();
        }
      })();
      // The check has been watching for a day, so a canary that did not come is late, not new.
      await new PipelineHealthStore(ddb, DRILL_ENV.INCIDENTS_TABLE).savePipelineHealth({
        firstCheckAt: new Date(clock.nowMs() - 86_400_000).toISOString(),
        digest: HEALTHY_DIGEST,
      });
      const lines: IntakeLine[] = [];
      const deliver = async (wave: RebasedRecord[]) => {
        for (const event of wave.map((r) => toEventBridge(r.record))) {
          const detail = event['detail'] as Record<string, unknown>;
          const line: IntakeLine = {
            eventName: asText(detail['eventName'] ?? ''),
            eventTime: (detail['eventTime'] as string | undefined) ?? null,
            outcome: 'error',
          };
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
      };
      await deliver(records.filter((r) => !r.wave));

      // Every execution runs to its end on the drill's clock; if nothing can move any more while one
      // still waits, the drill says so instead of hanging.
      let stop = () => undefined as unknown;
      const stalled = new Promise<never>((_, reject) => {
        void horizon.catch(reject);
        stop = clock.onStall(() => {
          const waiting = [...sfn.executions.values()].filter((e) => !settled.has(e.name)).map((e) => e.name);
          if (waiting.length > 0) reject(new DrillStalledError(waiting));
        });
      });
      const executions: DrillExecution[] = [];
      try {
        for (const wave of waves) {
          // Every execution so far ends; the wave comes afterEndMinutes later, happening then, and reaches
          // the account's CloudTrail as it happens.
          await Promise.race([Promise.all([...sfn.executions.values()].map((e) => e.done)), stalled]);
          await clock.sleep(wave[0]!.wave!.afterEndMinutes * 60_000, 'next wave');
          const happening = shiftRecords(wave, clock.nowMs() - now.getTime());
          for (const r of happening) (world.accounts[r.accountId]!.events[r.region] ??= []).push(r.record);
          await deliver(happening);
        }
        for (const execution of sfn.executions.values()) {
          const done = await Promise.race([execution.done, stalled]);
          settled.add(execution.name);
          executions.push({
            name: execution.name,
            status: done.status,
            ...(done.error ? { error: done.error } : {}),
            ...(done.cause ? { cause: done.cause } : {}),
            durationMs: (execution.endedAt ?? clock.nowMs()) - execution.startedAt,
            largestState: execution.largestState,
            historyEvents: execution.historyEvents,
            statesEntered: execution.events.filter((e) => e.type === 'StateEntered' && e.state).map((e) => e.state!),
            events: execution.events,
            output: done.output,
          });
        }
        await Promise.race([Promise.all(decisions), stalled]);
      } finally {
        stop();
        running = false;
      }
      void canaries;
      const pipeline = await aws
        .runAs('checkPipeline', () => loadHandler(deployedFunctions().get('checkPipeline')!)({}) as Promise<PipelineCheck>)
        .catch((error: Error) => ({ error: `${error.name}: ${error.message}` }));
      writeOutbox(join(outDir, 'outbox'), sns.outbox);
      const reports = executions.map((e) => ({
        incidentId: e.name,
        accountId: e.name.slice(0, 12),
        dir: folderFor(outDir, `incidents/${e.name}/`, perIncident),
      }));
      return {
        scenario: scenario.name,
        responders: responders.map((r) => ({ email: r.email, totpSecret: r.totpSecret })),
        approvalsBaseUrl: approvalServer.baseUrl,
        outDir,
        reports,
        aws,
        intake: lines,
        executions,
        outbox: sns.outbox,
        approvals,
        pipeline,
        ...(stores ? { storeFaults: { dynamodb: stores.ddb.stats, sns: stores.sns.stats } } : {}),
        wallMs: Date.now() - started,
        simulated: { ms: clock.nowMs() - now.getTime(), jumps: clock.stats.jumps },
      };
    });
  } finally {
    clock.stop();
    await approvalServer.close();
  }
}

/**
 * The drill's evidence folder. Synchronous file system calls, so no write is in flight in the
 * background while the simulated clock decides whether anything is left to run.
 */
class DrillFolderWriter implements ObjectWriter {
  constructor(readonly location: string) {}
  /**
   * Like the versioned evidence bucket, each write answers with a version id: here 32 characters
   * derived from the object's path in the folder and its content (deterministic, so two runs, in any
   * folders, write the same emails).
   */
  write(path: string, body: Buffer): Promise<string> {
    const file = inside(this.location, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, body);
    return Promise.resolve(createHash('sha256').update(normalize(path)).update('\n').update(body).digest('base64url').slice(0, 32));
  }
}

class DrillFolderReader implements ObjectReader {
  constructor(private readonly dir: string) {}
  read(path: string): Promise<Buffer> {
    // The executor turns a throw from readFileSync into a rejection with the same error.
    return new Promise((resolve) => resolve(readFileSync(inside(this.dir, path))));
  }
}

/** A path under the folder, never outside it. */
function inside(dir: string, path: string): string {
  const clean = normalize(path);
  if (clean.startsWith('..') || clean.startsWith(sep)) throw new ScenarioError(`refusing a path outside the evidence folder: ${path}`);
  return join(dir, clean);
}

/** A fresh output folder; an existing one is replaced only if it holds a previous drill's output. */
function prepareOutDir(dir: string): string {
  if (existsSync(dir)) {
    const entries = readdirSync(dir);
    const previousDrill =
      entries.length === 0 || entries.includes('report.json') || entries.includes('evidence') || entries.includes('outbox');
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
function doConsoleWork(
  aws: SimulatedAws,
  accountId: string,
  taskId: string,
  baseline: Scenario['baseline']['alternateContacts'],
  now: number,
  sourceIPAddress: string,
): void {
  const account = aws.world.accounts[accountId];
  if (!account) return;
  const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  const at = stamp(now);
  const log = (change: string) => aws.changes.push({ at: now, accountId, change: `console:${change}`, target: taskId });
  // What CloudTrail records of the responder's root console work, as it records a person's (shapes as documented).
  let n = 0;
  const root = { type: 'Root', accountId, arn: `arn:aws:iam::${accountId}:root`, principalId: accountId };
  const record = (fields: Record<string, unknown>) =>
    (account.events['us-east-1'] ??= []).push({
      eventVersion: '1.08',
      eventID: `drill-${taskId}-${now}-${n++}`,
      eventTime: stamp(now - 60_000 + n * 1000),
      awsRegion: 'us-east-1',
      sourceIPAddress,
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
      userIdentity: root,
      recipientAccountId: accountId,
      ...fields,
    });
  const signIn = () =>
    record({
      eventSource: 'signin.amazonaws.com',
      eventName: 'ConsoleLogin',
      eventType: 'AwsConsoleSignIn',
      responseElements: { ConsoleLogin: 'Success' },
      additionalEventData: {
        LoginTo: 'https://console.aws.amazon.com/console/home',
        MobileVersion: 'No',
        MFAUsed: account.root.mfaDevices.length ? 'Yes' : 'No',
      },
    });
  const consoleCall = (eventSource: string, eventName: string, requestParameters: Record<string, unknown> | null) =>
    record({
      eventSource,
      eventName,
      eventType: 'AwsApiCall',
      requestParameters,
      responseElements: null,
      readOnly: false,
      sessionCredentialFromConsole: 'true',
    });
  switch (taskId) {
    case 'delete-root-access-keys':
      signIn();
      for (const key of account.root.accessKeys) consoleCall('iam.amazonaws.com', 'DeleteAccessKey', { accessKeyId: key.AccessKeyId });
      account.root.accessKeys = [];
      account.root.signingCertificates = [];
      log('deleted root access keys and signing certificates');
      break;
    case 'enable-root-mfa': {
      signIn();
      const serial = `arn:aws:iam::${accountId}:u2f/root/drill-fido2-key`;
      consoleCall('iam.amazonaws.com', 'EnableMFADevice', { serialNumber: serial });
      account.root.mfaDevices.push({ SerialNumber: serial, kind: 'u2f', EnableDate: at });
      log('registered a FIDO2 security key for root');
      break;
    }
    case 'change-root-password':
      signIn();
      record({
        eventSource: 'signin.amazonaws.com',
        eventName: 'PasswordUpdated',
        eventType: 'AwsConsoleSignIn',
        responseElements: { PasswordUpdated: 'Success' },
      });
      log('changed the root password');
      break;
    case 'review-billing-and-organization':
      signIn();
      for (const [type, contact] of Object.entries(baseline))
        if (contact) {
          consoleCall('account.amazonaws.com', 'PutAlternateContact', {
            alternateContactType: type,
            emailAddress: 'HIDDEN_DUE_TO_SECURITY_REASONS',
          });
          account.alternateContacts[type as 'SECURITY'] = { ...contact };
        }
      log('restored the alternate contacts');
      break;
    default: {
      // A review task (a function or a quota request root made): drill/simulated-review.ts.
      const done = doReviewWork(account, taskId, at, sourceIPAddress);
      if (done) log(done);
      break;
    }
  }
}

/** A "make the policy private" task's console work (simulated-policies.ts), logged as the other console work is. */
function policyWork(aws: SimulatedAws, accountId: string, taskId: string, now: number, sourceIPAddress: string): void {
  const account = aws.world.accounts[accountId];
  if (!account) return;
  const at = new Date(now - 30_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const done = policyConsoleWork(account, (region) => aws.policyState(accountId, region), taskId, at, sourceIPAddress);
  if (done) aws.changes.push({ at: now, accountId, change: `console:${done}`, target: taskId });
}

/** The tenth address of an IPv4 CIDR (203.0.113.0/24 -> 203.0.113.10); undefined for IPv6 or none. */
function firstHost(cidr: string | undefined): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr ?? '');
  if (!m || Number(m[5]) > 28) return undefined;
  const base = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const host = (base + 10) >>> 0;
  return [host >>> 24, (host >>> 16) & 255, (host >>> 8) & 255, host & 255].join('.');
}

/** Every message as a file in DIR/outbox/, as a mailbox would hold it. */
function writeOutbox(dir: string, outbox: OutboxMessage[]): void {
  mkdirSync(dir, { recursive: true });
  outbox.forEach((message, i) => {
    const slug = message.subject
      .replace(/^\[root-responder\]\s*/, '')
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60)
      .toLowerCase();
    writeFileSync(
      join(dir, `${String(i + 1).padStart(3, '0')}-${slug}.txt`),
      `To: ${message.topicArn.split(':').pop()}\nSubject: ${message.subject}\nDate: ${message.at}\n\n${message.body}\n`,
    );
  });
}
