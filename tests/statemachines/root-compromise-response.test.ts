import { expect } from '@jest/globals';
import '#drill/polyfills';
import { StateMachine } from 'aws-local-stepfunctions';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { aslTasks, deployedFunctions, loadHandler, PROJECT_ROOT, stateMachineDefinition } from '#drill/deployment';
import { bindTasks } from '#drill/local-step-functions';
import { TaskTokenBroker } from '#drill/task-tokens';
import { EvidenceBundle } from '#shared/evidence';
import { type ExecutionInput, ExecutionInputSchema } from '#shared/contracts/execution-input';
import { NotifyInputSchema } from '#shared/contracts/notification';
import { type Reminder, type TaskItem, TaskItemInputSchema } from '#shared/contracts/task-item';
import { VerifyIncidentInputSchema } from '#shared/contracts/verification';
import { defaultTriageContext, triage } from '#shared/triage';
import { assessIncident } from '#functions/assess-incident/assess-incident';
import { fixture } from '../helpers';

type State = Record<string, unknown> & { Type: string };
const definition = stateMachineDefinition();

function allStates(states: Record<string, State>): [string, State][] {
  const out: [string, State][] = [];
  for (const [name, state] of Object.entries(states)) {
    out.push([name, state]);
    if (state.Type === 'Parallel') for (const b of state['Branches'] as { States: Record<string, State> }[]) out.push(...allStates(b.States));
    if (state.Type === 'Map') out.push(...allStates((state['ItemProcessor'] as { States: Record<string, State> }).States));
  }
  return out;
}
const states = allStates(definition.States as Record<string, State>);

/** A function's timeout as serverless.yml deploys it (the provider's default when it sets none). */
function functionTimeout(fn: string): number {
  const doc = parse(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8')) as { provider: { timeout: number }; functions: Record<string, { timeout?: number }> };
  return doc.functions[fn]?.timeout ?? doc.provider.timeout;
}
const tasks = aslTasks(definition);

describe('statemachines/root-compromise-response.asl.json', () => {
  it('is a valid definition for the local runner (its ASL validator)', () => {
    // The runner annotates the object it is given: hand it a copy.
    expect(() => new StateMachine(structuredClone(definition) as never)).not.toThrow();
    expect(tasks.length).toBeGreaterThanOrEqual(14);
  });

  it('is JSONPath only: no JSONata, no Assign', () => {
    const text = JSON.stringify(definition);
    expect(text).not.toMatch(/"QueryLanguage"\s*:\s*"JSONata"|"Assign"|"Arguments"|"Output"\s*:/);
  });

  it('names states as sentences and Choice states as questions', () => {
    for (const [name, state] of states) {
      expect(name).toMatch(/^[A-Z][A-Za-z-]*( [A-Za-z-]+)+\??$/);
      if (state.Type === 'Choice') expect(name.endsWith('?')).toBe(true);
      else expect(name.endsWith('?')).toBe(false);
    }
  });

  it('gives every Task a timeout, a retry on named transient errors only, and a Catch', () => {
    for (const [name, state] of states.filter(([, s]) => s.Type === 'Task')) {
      const timeout = state['TimeoutSeconds'] ?? state['TimeoutSecondsPath'];
      expect({ name, timeout }).toEqual({ name, timeout: expect.anything() });
      const retry = state['Retry'] as { ErrorEquals: string[]; MaxAttempts?: number }[];
      expect(retry.length).toBeGreaterThan(0);
      for (const r of retry) {
        expect(r.ErrorEquals).not.toContain('States.ALL');
        expect(r.ErrorEquals).not.toContain('States.TaskFailed');
      }
      expect(retry[0]!.ErrorEquals).toContain('TransientAwsError');
      // A timed-out or killed invocation is retried once, and only where running the step again does no harm.
      const onTimeout = retry.filter((r) => r.ErrorEquals.includes('States.Timeout'));
      if (onTimeout.length > 0) {
        expect({ name, idempotent: ['Snapshot Root Credentials', 'Contain Root Credentials', 'Verify Human Task', 'Verify Incident'].includes(name) }).toEqual({ name, idempotent: true });
        expect(onTimeout).toEqual([{ ErrorEquals: ['States.Timeout', 'Lambda.Unknown', 'Sandbox.Timedout'], IntervalSeconds: 1, MaxAttempts: 1 }]);
        // The Task waits longer than the function may run: a hung invocation is ended by Lambda
        // first, so the retry never runs beside a live one.
        const fn = (state['Parameters'] as { FunctionName: string }).FunctionName;
        expect({ name, taskLongerThanFunction: Number(state['TimeoutSeconds']) > functionTimeout(fn) }).toEqual({ name, taskLongerThanFunction: true });
      }
      expect((state['Catch'] as unknown[]).length).toBeGreaterThan(0);
    }
  });

  it('keeps the original input on every Catch (ResultPath below $)', () => {
    for (const [, state] of states) {
      for (const c of (state['Catch'] as { ResultPath?: string }[] | undefined) ?? []) {
        expect(c.ResultPath).toMatch(/^\$\.[a-zA-Z]+$/);
      }
    }
  });

  it('catches failures inside each Parallel branch, so evidence trouble never cancels containment', () => {
    const parallel = definition.States['Contain And Collect Evidence'] as State;
    for (const branch of parallel['Branches'] as { StartAt: string; States: Record<string, State> }[]) {
      const first = branch.States[branch.StartAt]!;
      expect((first['Catch'] as { ErrorEquals: string[] }[])[0]!.ErrorEquals).toEqual(['States.ALL']);
    }
  });

  it('routes every top-level failure to Report Failure, which ends in a Fail state', () => {
    for (const name of ['Contain And Collect Evidence', 'Assess Incident', 'Notify Responders', 'Run Human Tasks', 'Write Incident Report']) {
      const catches = (definition.States[name] as State)['Catch'] as { Next: string }[];
      expect(catches.map((c) => c.Next)).toContain('Report Failure');
    }
    expect((definition.States['Report Failure'] as State)['Next']).toBe('Response Failed');
    expect((definition.States['Response Failed'] as State).Type).toBe('Fail');
  });

  it('waits on people with a per-item token and a timeout read from the input, valid for AWS and the local runner', () => {
    const waits = tasks.filter((t) => t.waitForToken);
    expect(waits.map((w) => w.name).sort()).toEqual(['Request Approval', 'Request Sign-In Confirmation']);
    for (const [name, state] of states.filter(([n]) => waits.some((w) => w.name === n))) {
      expect({ name, path: state['TimeoutSecondsPath'] }).toEqual({ name, path: '$.Payload.input.waitSeconds' });
      expect(state['Parameters']).toEqual({ FunctionName: 'requestApproval', Payload: { 'token.$': '$$.Task.Token', 'input.$': '$.Payload.input' } });
    }
  });

  /**
   * Tasks whose step needs a few fields of a state that grows with the incident (the Map items, the
   * human tasks' outcomes) get exactly those: Step Functions allows 256 KiB per task input.
   */
  const PICKED: Record<string, Record<string, string>> = {
    'Notify Responders': {
      'incidentId.$': '$.incidentId',
      'accountId.$': '$.accountId',
      'region.$': '$.region',
      'trigger.$': '$.trigger',
      'severity.$': '$.assessment.Payload.severity',
      'steps.$': '$.assessment.Payload.steps',
      'tasks.$': '$.assessment.Payload.counts.tasks',
      'evidence.$': '$.assessment.Payload.evidence',
    },
    'Verify Incident': { 'incidentId.$': '$.incidentId', 'accountId.$': '$.accountId', 'humanTasks.$': '$.humanTasks' },
  };

  /** The state as Assess Incident leaves it, for an incident with a root sign-in without MFA. */
  async function afterAssess() {
    const input: ExecutionInput = {
      incidentId: '123456789012-20190101T000000Z-aaaaaaaaaa',
      accountId: '123456789012',
      region: 'us-east-1',
      openedAt: '2019-01-01T00:00:00.000Z',
      source: 'cloudtrail',
      unparsed: false,
      trigger: triage(fixture('cloudtrail/signin/panther__aws_console_root_login__t0__successful_root_login.json'), defaultTriageContext([])),
      settings: { approvalWaitSeconds: 3600, maxReminders: 3 },
    };
    const summary = await assessIncident(input, { evidence: { read: () => Promise.resolve(Buffer.from('{}')) }, bundle: new EvidenceBundle({ location: 'mem://', write: () => Promise.resolve(undefined) }) });
    // Plain JSON, as Step Functions passes it.
    return { input, summary, state: JSON.parse(JSON.stringify({ ...input, assessment: { Payload: summary } })) as Record<string, unknown> };
  }

  it('invokes every other Task with the lambda:invoke wrapping: Payload in (the state, or exactly the fields its step needs), $.Payload out', () => {
    for (const [name, state] of states.filter(([, s]) => s.Type === 'Task' && !String(s['Resource']).endsWith('waitForTaskToken'))) {
      expect({ name, resource: state['Resource'] }).toEqual({ name, resource: 'arn:aws:states:::lambda:invoke' });
      const parameters = state['Parameters'] as Record<string, unknown>;
      if (PICKED[name]) expect({ name, parameters }).toEqual({ name, parameters: { FunctionName: parameters['FunctionName'], Payload: PICKED[name] } });
      else expect((state['Parameters'] as Record<string, unknown>)['Payload.$']).toBe('$');
      expect(state['ResultSelector']).toEqual({ 'Payload.$': '$.Payload' });
    }
  });

  it('picks only paths that exist on every way into the Task, and what it picks is what its step accepts', async () => {
    // A path that is missing is States.Runtime, which no Catch sees: the execution would just fail.
    // Every way in: Notify follows Assess Incident only when it succeeded; Verify Incident follows Run Human Tasks.
    const nextOf = (target: string) => states.filter(([, s]) => s['Next'] === target || s['Default'] === target || ((s['Choices'] as { Next: string }[] | undefined) ?? []).some((c) => c.Next === target) || ((s['Catch'] as { Next: string }[] | undefined) ?? []).some((c) => c.Next === target)).map(([n]) => n);
    expect(nextOf('Notify Responders')).toEqual(['Assess Incident']);
    expect(nextOf('Verify Incident')).toEqual(['Run Human Tasks']);
    for (const [name, picked] of Object.entries(PICKED)) {
      // $.assessment and $.humanTasks are the results of the states before (Verify Incident follows only a Run Human Tasks that succeeded).
      for (const path of Object.values(picked).filter((p) => !p.startsWith('$.assessment.') && p !== '$.humanTasks')) {
        const field = path.slice(2);
        expect({ name, path, required: field in ExecutionInputSchema.shape && !ExecutionInputSchema.shape[field as keyof typeof ExecutionInputSchema.shape].safeParse(undefined).success }).toEqual({ name, path, required: true });
      }
    }
    // The state after a real Assess Incident, run through the Parameters, parses with each step's schema.
    const { input, summary, state } = await afterAssess();
    const pick = (parameters: Record<string, string>) => new StateMachine({ StartAt: 'Pick', States: { Pick: { Type: 'Pass', Parameters: parameters, End: true } } } as never).run(state as never).result as Promise<Record<string, unknown>>;
    const notify = await pick(PICKED['Notify Responders']!);
    expect(NotifyInputSchema.parse(notify)).toEqual({ ...notify, tasks: summary.plan.tasks.length });
    expect(JSON.stringify(notify)).not.toContain('change-root-password');
    const afterTasks = { ...state, humanTasks: [{ taskId: 'secure-root-mailbox', kind: 'console', status: 'overdue', reminders: 3 }] };
    const verify = await new StateMachine({ StartAt: 'Pick', States: { Pick: { Type: 'Pass', Parameters: PICKED['Verify Incident']!, End: true } } } as never).run(afterTasks).result;
    expect(VerifyIncidentInputSchema.parse(verify)).toEqual({ incidentId: input.incidentId, accountId: input.accountId, humanTasks: afterTasks.humanTasks });
  });

  it("builds Map items in the shape whose paths hold on AWS and locally, from the plan's task refs", async () => {
    // Both Maps build their items the same way.
    const human = definition.States['Run Human Tasks'] as State;
    expect((definition.States['Ask Whether The Sign-In Was Expected'] as State)['ItemSelector']).toEqual(human['ItemSelector']);
    const { summary, state } = await afterAssess();
    // The Map as it is, its processor replaced by one that hands back the item it receives.
    const { Catch: _catch, Next: _next, ResultPath: _resultPath, ...rest } = JSON.parse(JSON.stringify(human)) as State;
    const map = { ...rest, ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'Item', States: { Item: { Type: 'Pass', End: true } } }, End: true };
    const items = (await new StateMachine({ StartAt: 'Map', States: { Map: map } } as never).run(state as never).result) as unknown as TaskItem[];
    expect(items).toHaveLength(summary.plan.tasks.length);
    const item = items[0]!;
    expect(item).toEqual({ Payload: { input: expect.objectContaining({ incidentId: '123456789012-20190101T000000Z-aaaaaaaaaa', waitSeconds: 3600, reminders: 0, maxReminders: 3, severity: 'critical' }) } });
    expect(items.map((i) => TaskItemInputSchema.parse(i.Payload.input).task)).toEqual(summary.plan.tasks);
  });

  it('names only functions that serverless.yml deploys, and every deployed step function is used', () => {
    const deployed = deployedFunctions();
    const used = new Set(tasks.map((t) => t.functionName));
    for (const fn of used) expect(deployed.has(fn)).toBe(true);
    const notInWorkflow = [...deployed.keys()].filter((k) => !used.has(k)).sort();
    expect(notInWorkflow).toEqual(['approvals', 'checkPipeline', 'intake', 'sendAlertDigest', 'writeBaseline']);
  });

  it('binds, in the drill, exactly the handler module serverless.yml deploys for each Task', () => {
    const seen: { fn: string; same: boolean }[] = [];
    const deployed = deployedFunctions();
    const bound = bindTasks({
      broker: new TaskTokenBroker(),
      handlerFor: (fn, handler) => {
        seen.push({ fn, same: handler === loadHandler(deployed.get(fn)!) });
        return handler;
      },
    });
    expect(Object.keys(bound).sort()).toEqual(tasks.map((t) => t.name).sort());
    expect(seen).toHaveLength(tasks.length);
    expect(seen.every((s) => s.same)).toBe(true);
  });

  it('wraps a bound Task like lambda:invoke: the Payload goes in, { Payload, StatusCode } comes out', async () => {
    const bound = bindTasks({ broker: new TaskTokenBroker() });
    const input = { incidentId: 'i', accountId: 'a', severity: 'high', task: { id: 't', kind: 'console', title: 'T', why: [], steps: [], verification: 'v' }, waitSeconds: 5, reminders: 0, maxReminders: 2 };
    const out = (await bound['Send Reminder']!({ FunctionName: 'sendReminder', Payload: { Payload: { input }, timeout: { Error: 'States.Timeout' } } })) as { Payload: Reminder; StatusCode: number };
    expect(out.StatusCode).toBe(200);
    expect(out.Payload.input.reminders).toBe(1);
    await expect(bound['Send Reminder']!({ FunctionName: 'sendReminder', Payload: { wrong: true } })).rejects.toMatchObject({ name: 'InvalidStepInputError' });
  });
});
