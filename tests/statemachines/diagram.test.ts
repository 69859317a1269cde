import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mermaid, readmeDiagramBlock, README_DIAGRAM_END, README_DIAGRAM_START } from '#cli/diagram';
import { PROJECT_ROOT, stateMachineDefinition } from '#drill/deployment';

function stateNames(states: Record<string, Record<string, unknown>>): string[] {
  return Object.entries(states).flatMap(([name, s]) => [
    name,
    ...(s['Type'] === 'Parallel' ? (s['Branches'] as { States: Record<string, Record<string, unknown>> }[]).flatMap((b) => stateNames(b.States)) : []),
    ...(s['Type'] === 'Map' ? stateNames((s['ItemProcessor'] as { States: Record<string, Record<string, unknown>> }).States) : []),
  ]);
}

describe('the workflow picture', () => {
  it('draws every state of the ASL file', () => {
    const diagram = mermaid();
    for (const name of stateNames(stateMachineDefinition().States)) expect(diagram).toContain(`"${name}`);
    expect(diagram).toContain('Snapshot_Root_Credentials --> Contain_And_Collect_Evidence');
    expect(diagram).toContain('Request_Approval -.->|Timeout| Reminders_Left_');
  });

  it("README's picture is the one the ASL file gives (regenerate: npx root-responder diagram --readme)", () => {
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf(README_DIAGRAM_START);
    const end = readme.indexOf(README_DIAGRAM_END) + README_DIAGRAM_END.length;
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start, end)).toBe(readmeDiagramBlock());
  });

  it('highlights the states an incident went through', () => {
    const diagram = mermaid({ highlight: ['Assess Incident', 'Was It You?', 'not a state'] });
    expect(diagram).toContain('class Assess_Incident,Was_It_You_ visited');
  });
});

describe('the HTML report flow', () => {
  it('lists the ASL file top-level states in order', async () => {
    const { TOP_LEVEL_STATES } = await import('#functions/write-incident-report/render-html');
    const names = Object.keys(stateMachineDefinition().States).filter((n) => !['Response Finished', 'Report Failure', 'Response Failed'].includes(n));
    expect([...TOP_LEVEL_STATES]).toEqual(names);
  });
});
