import './polyfills';
import {
  type DescribeExecutionCommand,
  ExecutionDoesNotExist,
  type SendTaskFailureCommand,
  type SendTaskSuccessCommand,
  type StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { isCommand } from './simulated-dynamodb';
import { StateMachine } from 'aws-local-stepfunctions';
import { aslTasks, type AslState, deployedFunctions, type Handler, loadHandler, stateMachineDefinition } from './deployment';
import type { TaskTokenBroker } from './task-tokens';
import { type DrillClock, RealClock } from './sim-clock';
import { AWS_LIMITS, byteSize, dataLimitExceeded, invalidExecutionName } from './aws-limits';

/**
 * The drill's Step Functions: the real ASL file runs in aws-local-stepfunctions, every Task bound
 * to the handler module serverless.yml deploys for its FunctionName, with lambda:invoke's
 * wrapping (`Payload` in, `{ Payload, StatusCode }` out). waitForTaskToken tasks get a fresh
 * token per entry (as on AWS) and wait on the broker, which SendTaskSuccess / Failure settle.
 *
 * Time: every Task's TimeoutSeconds / TimeoutSecondsPath runs on the drill's clock (simulated in a
 * drill), not on the runner's real timers, so a 24-hour approval wait passes in milliseconds.
 * Limits: what AWS refuses, this refuses, with AWS's error (see aws-limits.ts): state input and
 * output and task results over 256 KiB fail the execution with States.DataLimitExceeded (which no
 * Catch can catch), execution names and inputs are checked as StartExecution checks them, and an
 * execution past 25,000 history events fails.
 */
export interface ExecutionEvent {
  type: string;
  state?: string;
  stateType?: string;
  index?: number;
  /** A Map item's name: the id of the task it handles (read from the item's input), when it has one. */
  item?: string;
  parent?: string;
  timestamp: number;
  error?: string;
}

export interface LocalExecution {
  name: string;
  arn: string;
  input: unknown;
  startedAt: number;
  events: ExecutionEvent[];
  /** The largest state input / output / task result this execution carried (bytes of JSON), and where. */
  largestState: { bytes: number; where: string };
  /** When it ended, on the drill's clock. */
  endedAt?: number;
  /** RUNNING until `done` settles, then its status (what DescribeExecution answers). */
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  /** History events as AWS would count them (entered / exited per state, scheduled / started / finished per task). */
  historyEvents: number;
  done: Promise<{ status: 'SUCCEEDED' | 'FAILED'; output?: unknown; error?: string; cause?: string }>;
}

export interface LocalStepFunctionsOptions {
  broker: TaskTokenBroker;
  /** The clock Task timeouts run on. */
  clock: DrillClock;
  stateMachineArn: string;
  onEvent?: (execution: LocalExecution, event: ExecutionEvent) => void;
  /** Replace a handler (fault injection in tests); defaults to the deployed module. */
  handlerFor?: (functionName: string, deployed: Handler) => Handler;
  /** Other TimeoutSeconds for named Task states (seconds of the drill's clock). */
  taskTimeouts?: Record<string, number>;
}

/** The runner's own real-time timeout, set out of reach: the drill's clock times Tasks out instead. */
const RUNNER_TIMEOUT_SECONDS = 2_000_000;

interface TaskTimeout {
  seconds?: number;
  path?: string[];
}

/**
 * The definition the runner gets: every Task's timeout taken out (recorded in `timeouts`, with the
 * given overrides applied) and replaced by one the runner never reaches.
 */
function runnerDefinition<T extends { States: Record<string, AslState> }>(
  definition: T,
  overrides: Record<string, number>,
  timeouts: Map<string, TaskTimeout>,
): T {
  // A JSON copy, not structuredClone: under jest's VM realms a structured clone's objects fail the
  // runner's plain-object test, and it then passes Parameters through unevaluated.
  const copy = JSON.parse(JSON.stringify(definition)) as T;
  const visit = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') {
        const path =
          typeof state['TimeoutSecondsPath'] === 'string'
            ? state['TimeoutSecondsPath']
                .replace(/^\$\.?/, '')
                .split('.')
                .filter(Boolean)
            : undefined;
        // AWS's default Task timeout is 60 s... for activities it is 99999999 s; every Task here sets one (a test holds that).
        timeouts.set(
          name,
          overrides[name] !== undefined
            ? { seconds: overrides[name] }
            : path
              ? { path }
              : { seconds: Number(state['TimeoutSeconds'] ?? 60) },
        );
        delete state['TimeoutSecondsPath'];
        state['TimeoutSeconds'] = RUNNER_TIMEOUT_SECONDS;
      }
      for (const branch of (state['Branches'] as { States: Record<string, AslState> }[] | undefined) ?? []) visit(branch.States);
      const processor = (state['ItemProcessor'] ?? state['Iterator']) as { States: Record<string, AslState> } | undefined;
      if (processor) visit(processor.States);
    }
  };
  visit(copy.States);
  return copy;
}

function timeoutSeconds(timeout: TaskTimeout | undefined, input: unknown): number {
  if (!timeout) return 60;
  if (timeout.seconds !== undefined) return timeout.seconds;
  let value: unknown = input;
  for (const key of timeout.path ?? []) value = (value as Record<string, unknown> | undefined)?.[key];
  // AWS fails the state when the path does not hold a positive integer (States.Runtime).
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw Object.assign(
      new Error(`TimeoutSecondsPath $.${(timeout.path ?? []).join('.')} is not a positive integer: ${JSON.stringify(value)}`),
      { name: 'States.Runtime', isCatchable: false, isRetryable: false },
    );
  }
  return value;
}

/** The Task's work against the drill's clock: States.Timeout when the clock passes its timeout first. */
async function withinTimeout<T>(clock: DrillClock, seconds: number, work: Promise<T>, onTimeout?: () => void): Promise<T> {
  const timer = clock.timeout(seconds * 1000, 'task timeout');
  try {
    return await Promise.race([
      work,
      timer.promise.then((): never => {
        onTimeout?.();
        throw Object.assign(new Error(`Task timed out after ${seconds} seconds`), { name: 'States.Timeout' });
      }),
    ]);
  } finally {
    timer.cancel();
  }
}

/** Step Functions refuses task results over 256 KiB: the execution fails, whatever the Catch says. */
function checkResult(task: string, payload: unknown): void {
  const bytes = byteSize(payload);
  if (bytes > AWS_LIMITS.stateBytes)
    throw dataLimitExceeded(`The task result of state "${task}" is ${bytes} bytes; the limit is ${AWS_LIMITS.stateBytes}`);
}

export function bindTasks(
  options: Pick<LocalStepFunctionsOptions, 'broker' | 'handlerFor'> & {
    clock?: DrillClock;
    timeouts?: Map<string, TaskTimeout>;
  },
): Record<string, (input: unknown) => Promise<unknown>> {
  const definition = stateMachineDefinition();
  const functions = deployedFunctions();
  const bound: Record<string, (input: unknown) => Promise<unknown>> = {};
  const { broker } = options;
  const clock = options.clock ?? new RealClock();
  const timeouts = options.timeouts ?? new Map<string, TaskTimeout>();
  if (!options.timeouts) runnerDefinition(definition, {}, timeouts);
  for (const task of aslTasks(definition)) {
    const binding = functions.get(task.functionName);
    if (!binding) throw new Error(`Task "${task.name}" names function "${task.functionName}", which serverless.yml does not deploy`);
    const deployed = loadHandler(binding);
    const handler = options.handlerFor ? options.handlerFor(task.functionName, deployed) : deployed;
    const timeout = timeouts.get(task.name);
    if (task.waitForToken) {
      bound[task.name] = async (params) => {
        const seconds = timeoutSeconds(timeout, params);
        const payload = (params as { Payload: { token: string; input: unknown } }).Payload;
        const token = broker.newToken();
        const wait = broker.wait(token);
        // The token dies with the wait (timed out, or the request failed), as on AWS.
        const work = (async () => {
          await handler(structuredClone({ ...payload, token }));
          return wait;
        })();
        try {
          const output = await withinTimeout(clock, seconds, work, () => broker.forget(token));
          checkResult(task.name, output);
          return output;
        } catch (error) {
          broker.forget(token);
          throw error;
        }
      };
    } else {
      bound[task.name] = async (params) => {
        const seconds = timeoutSeconds(timeout, params);
        const out = await withinTimeout(clock, seconds, handler(structuredClone((params as { Payload: unknown }).Payload)));
        checkResult(task.name, out ?? null);
        return { ExecutedVersion: '$LATEST', Payload: out ?? null, StatusCode: 200 };
      };
    }
  }
  return bound;
}

export class LocalStepFunctions {
  readonly executions = new Map<string, LocalExecution>();
  private readonly machine: StateMachine;
  private readonly tasks: Record<string, (input: unknown) => Promise<unknown>>;
  private readonly retryOverrides: Record<string, number>;

  constructor(private readonly options: LocalStepFunctionsOptions) {
    const timeouts = new Map<string, TaskTimeout>();
    this.machine = new StateMachine(runnerDefinition(stateMachineDefinition(), options.taskTimeouts ?? {}, timeouts) as never);
    this.tasks = bindTasks({ ...options, timeouts });
    // Retries wait 0 ms in the drill; the retry policy itself still applies.
    this.retryOverrides = Object.fromEntries(Object.keys(this.tasks).map((name) => [name, 0]));
  }

  /** As the SDK's send(): answered now, and what the answer throws is the rejection. */
  send(command: unknown): Promise<Record<string, unknown>> {
    return new Promise((resolve) => resolve(this.answer(command)));
  }

  private answer(command: unknown): Record<string, unknown> {
    if (isCommand<StartExecutionCommand>(command, 'StartExecutionCommand'))
      return this.start(command.input.name!, JSON.parse(command.input.input ?? '{}'));
    if (isCommand<DescribeExecutionCommand>(command, 'DescribeExecutionCommand')) return this.describe(command.input.executionArn ?? '');
    if (isCommand<SendTaskSuccessCommand>(command, 'SendTaskSuccessCommand')) {
      this.options.broker.succeed(command.input.taskToken!, JSON.parse(command.input.output ?? 'null'));
      return {};
    }
    if (isCommand<SendTaskFailureCommand>(command, 'SendTaskFailureCommand')) {
      this.options.broker.fail(command.input.taskToken!, command.input.error ?? 'States.TaskFailed', command.input.cause ?? '');
      return {};
    }
    throw new Error(`Local Step Functions does not support ${(command as object).constructor.name}`);
  }

  /** DescribeExecution as AWS answers it: the execution's status and times, ExecutionDoesNotExist for an ARN it never started. */
  private describe(executionArn: string): Record<string, unknown> {
    const execution = [...this.executions.values()].find((e) => e.arn === executionArn);
    if (!execution)
      throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${executionArn}'`, $metadata: { httpStatusCode: 400 } });
    return {
      executionArn: execution.arn,
      stateMachineArn: this.options.stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: new Date(execution.startedAt),
      ...(execution.endedAt !== undefined && execution.status !== 'RUNNING' ? { stopDate: new Date(execution.endedAt) } : {}),
      input: JSON.stringify(execution.input),
    };
  }

  private start(name: string, input: unknown): Record<string, unknown> {
    const invalid = invalidExecutionName(name);
    if (invalid) throw invalid;
    const inputBytes = byteSize(input);
    if (inputBytes > AWS_LIMITS.stateBytes) {
      throw Object.assign(
        new Error(
          `1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to ${AWS_LIMITS.stateBytes}`,
        ),
        { name: 'ValidationException' },
      );
    }
    if (this.executions.has(name)) {
      const error = new Error(`Execution Already Exists: '${name}'`);
      error.name = 'ExecutionAlreadyExists';
      throw error;
    }
    const arn = `${this.options.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const broker = this.options.broker;
    const run = this.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: this.tasks as never, retryIntervalOverrides: this.retryOverrides },
      context: {
        Execution: { Id: arn, Name: name },
        StateMachine: { Id: this.options.stateMachineArn, Name: this.options.stateMachineArn.split(':').pop() },
        // Evaluated per Map item by the runner; each waitForTaskToken entry also gets its own.
        get Task() {
          return { Token: broker.newToken() };
        },
      },
    });
    const clock = this.options.clock;
    const execution: LocalExecution = {
      name,
      arn,
      input,
      startedAt: clock.nowMs(),
      events: [],
      largestState: { bytes: inputBytes, where: 'execution input' },
      historyEvents: 0,
      status: 'RUNNING',
      done: undefined as never,
    };
    // A limit crossed outside a Task (a Pass, Choice, Map or Parallel state's input or output) stops
    // the execution as AWS would: failed with the limit's error.
    let limitError: Error | undefined;
    const stopFor = (error: Error) => {
      limitError ??= error;
      run.abort();
    };
    // Map items by task: the first state of an item carries {Payload: {input: {task: {id}}}}.
    const itemNames = new Map<string, string>();
    const taskIdOf = (input: unknown): string | undefined => {
      const payload = (input as { Payload?: { input?: { task?: { id?: unknown } } } } | null)?.Payload;
      const id = payload?.input?.task?.id;
      return typeof id === 'string' ? id : undefined;
    };
    const collect = (async () => {
      for await (const raw of run.eventLogs as AsyncIterable<Record<string, unknown>>) {
        const state = raw['state'] as { name?: string; type?: string; input?: unknown; output?: unknown } | undefined;
        if (state && (raw['type'] === 'StateEntered' || raw['type'] === 'StateExited')) {
          const data = raw['type'] === 'StateEntered' ? state.input : state.output;
          const bytes = byteSize(data);
          const where = `${state.name} (${raw['type'] === 'StateEntered' ? 'input' : 'output'})`;
          if (bytes > execution.largestState.bytes) execution.largestState = { bytes, where };
          if (bytes > AWS_LIMITS.stateBytes)
            stopFor(dataLimitExceeded(`The state ${where} is ${bytes} bytes; the limit is ${AWS_LIMITS.stateBytes}`));
        }
        execution.historyEvents += historyWeight(raw['type'] as string, state?.type);
        if (execution.historyEvents > AWS_LIMITS.historyEvents) {
          stopFor(
            Object.assign(new Error(`The execution has more than ${AWS_LIMITS.historyEvents} history events`), { name: 'States.Runtime' }),
          );
        }
        const parent = raw['parentState'] as { name?: string } | undefined;
        const itemKey = typeof raw['index'] === 'number' ? `${parent?.name ?? ''}/${raw['index']}` : undefined;
        if (itemKey && !itemNames.has(itemKey) && raw['type'] === 'StateEntered') {
          const id = taskIdOf(state?.input);
          if (id) itemNames.set(itemKey, id);
        }
        const item = itemKey ? itemNames.get(itemKey) : undefined;
        const event: ExecutionEvent = {
          type: String(raw['type']),
          ...(state?.name ? { state: state.name, stateType: state.type } : {}),
          ...(typeof raw['index'] === 'number' ? { index: raw['index'] } : {}),
          ...(item ? { item } : {}),
          ...(parent?.name ? { parent: parent.name } : {}),
          // The drill's clock, not the runner's wall-clock stamp: the same run reads the same.
          timestamp: clock.nowMs(),
          ...(typeof raw['Error'] === 'string' ? { error: raw['Error'] } : {}),
        };
        execution.events.push(event);
        this.options.onEvent?.(execution, event);
      }
    })();
    execution.done = run.result.then(
      async (output) => {
        execution.endedAt = clock.nowMs();
        await collect;
        const bytes = byteSize(output);
        if (bytes > execution.largestState.bytes) execution.largestState = { bytes, where: 'execution output' };
        if (limitError) return { status: 'FAILED' as const, error: limitError.name, cause: limitError.message };
        if (bytes > AWS_LIMITS.stateBytes)
          return {
            status: 'FAILED' as const,
            error: 'States.DataLimitExceeded',
            cause: `The execution output is ${bytes} bytes; the limit is ${AWS_LIMITS.stateBytes}`,
          };
        return { status: 'SUCCEEDED' as const, output };
      },
      async (error: Error & { cause?: unknown }) => {
        execution.endedAt = clock.nowMs();
        await collect.catch(() => undefined);
        if (limitError) return { status: 'FAILED' as const, error: limitError.name, cause: limitError.message };
        // The runner wraps the state's error (a Fail state's Error, an uncaught task error) in ExecutionError.
        const inner = error.cause instanceof Error ? error.cause : error;
        return { status: 'FAILED' as const, error: inner.name, cause: String(inner.message ?? '') };
      },
    );
    void execution.done.then((d) => {
      execution.status = d.status;
    });
    this.executions.set(name, execution);
    return { executionArn: arn, startDate: new Date(execution.startedAt) };
  }
}

/**
 * How many of AWS's history events one of the runner's events stands for: a state's entered and
 * exited events, plus a Lambda task's scheduled, started and succeeded / failed events (one more,
 * TaskSubmitted, for a task that waits for a token, counted on its state's exit).
 */
function historyWeight(type: string, stateType: string | undefined): number {
  return type === 'StateEntered' && stateType === 'Task' ? 4 : 1;
}
