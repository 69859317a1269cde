import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { bundlePath, ensureBundles } from './bundles';
import { asText } from '#shared/text';

/**
 * What serverless.yml deploys, read from serverless.yml itself, so the drill and the tests bind
 * exactly the handler modules AWS would run.
 */
export const PROJECT_ROOT = join(__dirname, '..');
export const STATE_MACHINE_FILE = join(PROJECT_ROOT, 'statemachines', 'root-compromise-response.asl.json');

export interface FunctionBinding {
  key: string;
  /** As written in serverless.yml: functions/intake/handler.handler */
  handler: string;
  /** The module file: functions/intake/handler.ts */
  modulePath: string;
  exportName: string;
}

export function deployedFunctions(root = PROJECT_ROOT): Map<string, FunctionBinding> {
  const doc = parse(readFileSync(join(root, 'serverless.yml'), 'utf8')) as { functions?: Record<string, { handler?: string }> };
  const out = new Map<string, FunctionBinding>();
  for (const [key, fn] of Object.entries(doc.functions ?? {})) {
    const handler = fn.handler ?? '';
    const dot = handler.lastIndexOf('.');
    out.set(key, { key, handler, modulePath: `${handler.slice(0, dot)}.ts`, exportName: handler.slice(dot + 1) });
  }
  return out;
}

export type Handler = (event: unknown) => Promise<unknown>;

/**
 * Load a deployed handler as it deploys: the function's bundle (built by esbuild with serverless.yml's
 * options, minified), and the export Lambda would call. Every deployed function's bundle is built
 * together the first time, then reused while no input changed.
 */
export function loadHandler(binding: FunctionBinding, root = PROJECT_ROOT): Handler {
  const entries = [...deployedFunctions(root).values()].map((f) => f.modulePath);
  const { dir } = ensureBundles(root, entries);
  const file = bundlePath(dir, binding.modulePath);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as Record<string, unknown>;
  const handler = mod[binding.exportName];
  if (typeof handler !== 'function') throw new Error(`${binding.modulePath} (bundled: ${file}) does not export ${binding.exportName}`);
  return handler as Handler;
}

export interface AslTask {
  name: string;
  resource: string;
  functionName: string;
  waitForToken: boolean;
  path: string[];
}

export type AslState = Record<string, unknown> & { Type?: string };

/** Every Task state of a definition, including those inside Parallel branches and Map processors. */
export function aslTasks(definition: { States: Record<string, AslState> }, path: string[] = []): AslTask[] {
  const out: AslTask[] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task') {
      const params = (state['Parameters'] ?? {}) as Record<string, unknown>;
      out.push({
        name,
        resource: String(state['Resource']),
        functionName: asText(params['FunctionName'] ?? ''),
        waitForToken: String(state['Resource']).endsWith('.waitForTaskToken'),
        path,
      });
    }
    if (state.Type === 'Parallel') {
      for (const [i, branch] of ((state['Branches'] ?? []) as { States: Record<string, AslState> }[]).entries())
        out.push(...aslTasks(branch, [...path, `${name}[${i}]`]));
    }
    if (state.Type === 'Map') {
      const processor = (state['ItemProcessor'] ?? state['Iterator']) as { States: Record<string, AslState> };
      out.push(...aslTasks(processor, [...path, name]));
    }
  }
  return out;
}

export function stateMachineDefinition(): { StartAt: string; States: Record<string, AslState> } {
  return JSON.parse(readFileSync(STATE_MACHINE_FILE, 'utf8')) as { StartAt: string; States: Record<string, AslState> };
}
