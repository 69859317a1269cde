import './polyfills';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import { ApprovalStore } from '#shared/approval-store';
import { extractRecords } from '#shared/cloudtrail';
import { useLocalClients } from '#shared/clients';
import { resetRuntimeConfig } from '#shared/config';
import { systemClock } from '#shared/clock';
import { ScenarioError } from '#shared/errors';
import { decide } from '../approvals/approvals';
import { deployedFunctions, loadHandler, PROJECT_ROOT } from './deployment';
import { toEventBridge } from './envelope';
import { type ExecutionEvent, type LocalExecution, LocalStepFunctions, type LocalStepFunctionsOptions } from './local-step-functions';
import { SimulatedDynamoDb } from './simulated-dynamodb';
import { type OutboxMessage, SimulatedSns } from './simulated-sns';
import { TaskTokenBroker } from './task-tokens';

/**
 * The drill: a whole incident on this machine, no AWS account. Scenario events go through the
 * deployed intake handler; the real state machine file runs locally with every Task bound to its
 * deployed handler; DynamoDB, SNS and Step Functions are local stand-ins. With `approve: 'all'` a
 * simulated responder approves every link that reaches the responders' mailbox.
 */
export const SCENARIOS_DIR = join(PROJECT_ROOT, 'scenarios');
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
  APPROVALS_BASE_URL: 'http://127.0.0.1:8787',
  KNOWN_SOURCE_CIDRS: '',
  APPROVAL_EXPIRY_HOURS: '1',
  REMINDER_INTERVAL_SECONDS: '1',
  MAX_REMINDERS: '1',
} as const;

export interface Scenario {
  name: string;
  description: string;
  /** The responders' known networks for this drill (the deployed setting: knownSourceCidrs). */
  knownSourceCidrs?: string[];
  sources: string[];
}

export interface DrillOptions {
  scenario?: string;
  approve: 'all' | 'none';
  onEvent?: (execution: LocalExecution, event: ExecutionEvent) => void;
  onIntake?: (result: IntakeLine) => void;
  /** Replace a deployed handler (fault injection in tests). */
  handlerFor?: LocalStepFunctionsOptions['handlerFor'];
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
  intake: IntakeLine[];
  executions: DrillExecution[];
  outbox: OutboxMessage[];
  approvals: { id: string; outcome: string; taskId?: string; error?: string }[];
  wallMs: number;
}

export function loadScenario(nameOrFile: string): { scenario: Scenario; dir: string } {
  const file = nameOrFile.endsWith('.json') ? (isAbsolute(nameOrFile) ? nameOrFile : resolve(nameOrFile)) : join(SCENARIOS_DIR, `${nameOrFile}.json`);
  if (!existsSync(file)) throw new ScenarioError(`No scenario "${nameOrFile}" (looked for ${file})`);
  let scenario: Scenario;
  try {
    scenario = JSON.parse(readFileSync(file, 'utf8')) as Scenario;
  } catch (error) {
    throw new ScenarioError(`${file}: not JSON (${(error as Error).message})`);
  }
  if (typeof scenario.name !== 'string' || !Array.isArray(scenario.sources) || scenario.sources.length === 0) {
    throw new ScenarioError(`${file}: a scenario needs "name" and a non-empty "sources" list`);
  }
  return { scenario, dir: join(file, '..') };
}

function scenarioEvents(scenario: Scenario, dir: string): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (const source of scenario.sources) {
    const path = join(dir, source);
    if (!existsSync(path)) throw new ScenarioError(`Scenario ${scenario.name}: source ${source} not found`);
    const { records, problems } = extractRecords(JSON.parse(readFileSync(path, 'utf8')), source);
    if (problems.length > 0) throw new ScenarioError(`Scenario ${scenario.name}: ${problems.map((p) => `${p.origin}: ${p.message}`).join('; ')}`);
    for (const { record, envelope } of records) events.push(envelope ?? toEventBridge(record));
  }
  return events;
}

const APPROVAL_LINK = /\/approvals\/([A-Za-z0-9_-]{43})\b/;

export async function runDrill(options: DrillOptions): Promise<DrillResult> {
  const started = Date.now();
  const { scenario, dir } = loadScenario(options.scenario ?? DEFAULT_SCENARIO);
  const events = scenarioEvents(scenario, dir);

  Object.assign(process.env, DRILL_ENV, { KNOWN_SOURCE_CIDRS: (scenario.knownSourceCidrs ?? []).join(',') });
  resetRuntimeConfig();
  const ddb = new SimulatedDynamoDb();
  const sns = new SimulatedSns();
  const broker = new TaskTokenBroker();
  const sfn = new LocalStepFunctions({
    broker,
    stateMachineArn: DRILL_ENV.STATE_MACHINE_ARN,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.handlerFor ? { handlerFor: options.handlerFor } : {}),
  });
  useLocalClients({ dynamodb: ddb as unknown as DynamoDBDocumentClient, sfn: sfn as unknown as SFNClient, sns: sns as unknown as SNSClient });

  const approvals: DrillResult['approvals'] = [];
  const decisions: Promise<void>[] = [];
  if (options.approve === 'all') {
    const store = new ApprovalStore(ddb as unknown as DynamoDBDocumentClient, DRILL_ENV.APPROVALS_TABLE);
    sns.onPublish((message) => {
      if (message.topicArn !== DRILL_ENV.RESPONDERS_TOPIC_ARN) return;
      const id = APPROVAL_LINK.exec(message.body)?.[1];
      if (!id) return;
      decisions.push(
        decide({ id, outcome: 'approved', decidedBy: 'drill:simulated-responder', via: 'drill --approve all' }, { approvals: store, sfn: sfn as unknown as SFNClient, clock: systemClock }).then(
          (record) => {
            approvals.push({ id: id.slice(0, 6), outcome: 'approved', taskId: record.taskId });
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
    const lines: IntakeLine[] = [];
    for (const event of events) {
      const detail = event['detail'] as Record<string, unknown>;
      const line: IntakeLine = { eventName: String(detail['eventName'] ?? ''), eventTime: (detail['eventTime'] as string | undefined) ?? null, outcome: 'error' };
      try {
        const result = (await intake(event)) as { outcome: string; incidentId?: string };
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
    return { scenario: scenario.name, intake: lines, executions, outbox: sns.outbox, approvals, wallMs: Date.now() - started };
  } finally {
    useLocalClients(undefined);
  }
}
