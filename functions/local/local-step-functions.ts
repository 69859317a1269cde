import './polyfills';
import { SendTaskFailureCommand, SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { StateMachine } from 'aws-local-stepfunctions';
import { aslTasks, type AslState, deployedFunctions, type Handler, loadHandler, stateMachineDefinition } from './deployment';
import type { TaskTokenBroker } from './task-tokens';

/**
 * The drill's Step Functions: the real ASL file runs in aws-local-stepfunctions, every Task bound
 * to the handler module serverless.yml deploys for its FunctionName, with lambda:invoke's
 * wrapping (`Payload` in, `{ Payload, StatusCode }` out). waitForTaskToken tasks get a fresh
 * token per entry (as on AWS) and wait on the broker, which SendTaskSuccess / Failure settle.
 */
export interface ExecutionEvent {
  type: string;
  state?: string;
  stateType?: string;
  index?: number;
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
  done: Promise<{ status: 'SUCCEEDED' | 'FAILED'; output?: unknown; error?: string; cause?: string }>;
}

export interface LocalStepFunctionsOptions {
  broker: TaskTokenBroker;
  stateMachineArn: string;
  onEvent?: (execution: LocalExecution, event: ExecutionEvent) => void;
  /** Replace a handler (fault injection in tests); defaults to the deployed module. */
  handlerFor?: (functionName: string, deployed: Handler) => Handler;
  /** Shorter TimeoutSeconds for named Task states, so a test can watch a hung step time out in a second. */
  taskTimeouts?: Record<string, number>;
}

/** A copy of the definition with the given Task states' TimeoutSeconds replaced (branches and Map processors included). */
function withTaskTimeouts<T extends { States: Record<string, AslState> }>(definition: T, timeouts: Record<string, number>): T {
  // A JSON copy, not structuredClone: under jest's VM realms a structured clone's objects fail the
  // runner's plain-object test, and it then passes Parameters through unevaluated.
  const copy = JSON.parse(JSON.stringify(definition)) as T;
  const visit = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task' && timeouts[name] !== undefined) {
        delete state['TimeoutSecondsPath'];
        state['TimeoutSeconds'] = timeouts[name];
      }
      for (const branch of (state['Branches'] as { States: Record<string, AslState> }[] | undefined) ?? []) visit(branch.States);
      const processor = (state['ItemProcessor'] ?? state['Iterator']) as { States: Record<string, AslState> } | undefined;
      if (processor) visit(processor.States);
    }
  };
  visit(copy.States);
  return copy;
}

export function bindTasks(options: Pick<LocalStepFunctionsOptions, 'broker' | 'handlerFor'>): Record<string, (input: unknown) => Promise<unknown>> {
  const definition = stateMachineDefinition();
  const functions = deployedFunctions();
  const bound: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const task of aslTasks(definition)) {
    const binding = functions.get(task.functionName);
    if (!binding) throw new Error(`Task "${task.name}" names function "${task.functionName}", which serverless.yml does not deploy`);
    const deployed = loadHandler(binding);
    const handler = options.handlerFor ? options.handlerFor(task.functionName, deployed) : deployed;
    if (task.waitForToken) {
      bound[task.name] = async (params) => {
        const payload = (params as { Payload: { token: string; input: { waitSeconds?: number } } }).Payload;
        const token = options.broker.newToken();
        const wait = options.broker.wait(token);
        // The runner abandons the wait on States.Timeout; the token dies with it, as on AWS.
        const expiry = setTimeout(() => options.broker.forget(token), (payload.input.waitSeconds ?? 60) * 1000 + 50);
        try {
          await handler(structuredClone({ ...payload, token }));
          return await wait;
        } catch (error) {
          options.broker.forget(token);
          throw error;
        } finally {
          clearTimeout(expiry);
        }
      };
    } else {
      bound[task.name] = async (params) => {
        const out = await handler(structuredClone((params as { Payload: unknown }).Payload));
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
    this.machine = new StateMachine(withTaskTimeouts(stateMachineDefinition(), options.taskTimeouts ?? {}) as never);
    this.tasks = bindTasks(options);
    // Retries wait 0 ms in the drill; the retry policy itself still applies.
    this.retryOverrides = Object.fromEntries(Object.keys(this.tasks).map((name) => [name, 0]));
  }

  async send(command: unknown): Promise<Record<string, unknown>> {
    if (command instanceof StartExecutionCommand) return this.start(command.input.name!, JSON.parse(command.input.input ?? '{}'));
    if (command instanceof SendTaskSuccessCommand) {
      this.options.broker.succeed(command.input.taskToken!, JSON.parse(command.input.output ?? 'null'));
      return {};
    }
    if (command instanceof SendTaskFailureCommand) {
      this.options.broker.fail(command.input.taskToken!, command.input.error ?? 'States.TaskFailed', command.input.cause ?? '');
      return {};
    }
    throw new Error(`Local Step Functions does not support ${(command as object).constructor.name}`);
  }

  private start(name: string, input: unknown): Record<string, unknown> {
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
      } as never,
    });
    const execution: LocalExecution = { name, arn, input, startedAt: Date.now(), events: [], done: undefined as never };
    const collect = (async () => {
      for await (const raw of run.eventLogs as AsyncIterable<Record<string, unknown>>) {
        const state = raw['state'] as { name?: string; type?: string } | undefined;
        const parent = raw['parentState'] as { name?: string } | undefined;
        const event: ExecutionEvent = {
          type: String(raw['type']),
          ...(state?.name ? { state: state.name, stateType: state.type } : {}),
          ...(typeof raw['index'] === 'number' ? { index: raw['index'] } : {}),
          ...(parent?.name ? { parent: parent.name } : {}),
          timestamp: Number(raw['timestamp'] ?? Date.now()),
          ...(typeof raw['Error'] === 'string' ? { error: raw['Error'] } : {}),
        };
        execution.events.push(event);
        this.options.onEvent?.(execution, event);
      }
    })();
    execution.done = run.result.then(
      async (output) => {
        await collect;
        return { status: 'SUCCEEDED' as const, output };
      },
      async (error: Error & { cause?: unknown }) => {
        await collect.catch(() => undefined);
        // The runner wraps the state's error (a Fail state's Error, an uncaught task error) in ExecutionError.
        const inner = error.cause instanceof Error ? error.cause : error;
        return { status: 'FAILED' as const, error: inner.name, cause: String(inner.message ?? '') };
      },
    );
    this.executions.set(name, execution);
    return { executionArn: arn, startDate: new Date(execution.startedAt) };
  }
}
