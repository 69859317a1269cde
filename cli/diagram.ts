import { stateMachineDefinition } from '#drill/deployment';

/**
 * The workflow as a Mermaid flowchart, generated from the ASL file so it cannot drift: every
 * state, every Next / Default / Choice / Catch edge, Parallel branches and Map processors as
 * subgraphs. `highlight` marks the states an incident went through.
 */
type State = Record<string, unknown> & { Type: string };
type Machine = { StartAt: string; States: Record<string, State> };

const nodeId = (path: string) => path.replace(/[^A-Za-z0-9]+/g, '_');

export function mermaid(options: { highlight?: Iterable<string> } = {}): string {
  const definition = stateMachineDefinition() as unknown as Machine;
  const lines: string[] = ['flowchart TD'];
  const edges: string[] = [];
  const ids = new Map<string, string>();
  const id = (name: string) => {
    let v = ids.get(name);
    if (!v) {
      v = nodeId(name);
      ids.set(name, v);
    }
    return v;
  };
  const shape = (name: string, state: State) => {
    const label = name.replace(/"/g, "'");
    if (state.Type === 'Choice') return `${id(name)}{"${label}"}`;
    if (state.Type === 'Succeed' || state.Type === 'Fail') return `${id(name)}(["${label}"])`;
    return `${id(name)}["${label}"]`;
  };
  const walk = (machine: Machine, indent: string) => {
    for (const [name, state] of Object.entries(machine.States)) {
      if (state.Type === 'Parallel' || state.Type === 'Map') {
        lines.push(`${indent}subgraph ${id(name)}["${name} (${state.Type})"]`);
        const inner = state.Type === 'Parallel' ? (state['Branches'] as Machine[]) : [state['ItemProcessor'] as Machine];
        for (const m of inner) walk(m, `${indent}  `);
        lines.push(`${indent}end`);
      } else {
        lines.push(`${indent}${shape(name, state)}`);
      }
      if (typeof state['Next'] === 'string') edges.push(`${id(name)} --> ${id(state['Next'])}`);
      if (typeof state['Default'] === 'string') edges.push(`${id(name)} -->|otherwise| ${id(state['Default'])}`);
      for (const c of (state['Choices'] as { Next: string }[] | undefined) ?? []) edges.push(`${id(name)} -->|yes| ${id(c.Next)}`);
      for (const c of (state['Catch'] as { Next: string; ErrorEquals: string[] }[] | undefined) ?? [])
        edges.push(`${id(name)} -.->|${c.ErrorEquals.join(', ').replace(/States\./g, '')}| ${id(c.Next)}`);
    }
  };
  walk(definition, '  ');
  lines.push(...edges.map((e) => `  ${e}`));
  const highlight = [...(options.highlight ?? [])].filter((s) => ids.has(s));
  if (highlight.length > 0) {
    lines.push('  classDef visited fill:#fde68a,stroke:#b45309,stroke-width:2px');
    lines.push(`  class ${[...new Set(highlight.map(id))].join(',')} visited`);
  }
  return lines.join('\n');
}

/** The README's picture, between its markers. */
export const README_DIAGRAM_START =
  '<!-- workflow-diagram:start (generated from the ASL file; `npx root-responder diagram --readme` rewrites it) -->';
export const README_DIAGRAM_END = '<!-- workflow-diagram:end -->';

export function readmeDiagramBlock(): string {
  return `${README_DIAGRAM_START}\n\`\`\`mermaid\n${mermaid()}\n\`\`\`\n${README_DIAGRAM_END}`;
}
