import { expect } from '@jest/globals';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployedFunctions, PROJECT_ROOT } from '#drill/deployment';
import { runDrill } from '#drill/drill';
import { listScenarios } from '#drill/scenario';
import { COMMAND_ACTIONS } from '#drill/simulated-aws';
import { packagedTemplate, parseResources, propertiesAt } from '../helpers-template';

/**
 * Not circular: the calls each handler really makes in every bundled scenario (recorded inside the
 * simulated AWS, attributed by function) must be within what that handler declares, and every
 * AWS action a handler declares must be used by some scenario. (Calls made with an AssumeRoot
 * session are authorized by the session's task policy, not by the function's role.)
 */
interface DrillReport {
  incidentId: string;
  findings: { title: string; evidence: string[] }[];
  responderActivity: { taskId: string; eventName: string; eventId: string; status: string }[];
}

describe('least privilege, from what the handlers actually call', () => {
  const used = new Map<string, Set<string>>();
  /** What each member-account role was used for (`role:root-responder-read`, `role:root-responder-remediate`). */
  const byMemberRole = new Map<string, Set<string>>();
  /** Each run's reports: the responders' own root work must never be an attacker finding. */
  const reports: { scenario: string; incidentId: string; report: DrillReport }[] = [];

  beforeAll(async () => {
    for (const { name } of listScenarios()) {
      const result = await runDrill({ scenario: name, approve: 'all', out: mkdtempSync(join(tmpdir(), 'lp-')) });
      for (const { dir } of result.reports) {
        const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as DrillReport;
        reports.push({ scenario: name, incidentId: report.incidentId, report });
      }
      for (const call of result.aws.calls) {
        if (!call.caller || call.principal.startsWith('root-session')) continue;
        const action = COMMAND_ACTIONS[call.command];
        expect({ command: call.command, action }).toEqual({ command: call.command, action: expect.any(String) });
        if (!used.has(call.caller)) used.set(call.caller, new Set());
        used.get(call.caller)!.add(action!);
        if (call.principal.startsWith('role:')) {
          if (!byMemberRole.has(call.principal)) byMemberRole.set(call.principal, new Set());
          byMemberRole.get(call.principal)!.add(action!);
        }
      }
    }
  }, 600_000); // every bundled scenario, on a machine that may be busy: a guard against a hang only

  const declared = (key: string): string[] => {
    const binding = deployedFunctions().get(key)!;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the step's module path is known only at run time, from the deployed functions
    return [...(require(join(PROJECT_ROOT, binding.modulePath)) as { requiredPermissions: readonly string[] }).requiredPermissions];
  };
  // DynamoDB, SNS, the evidence and config buckets' object calls, Step Functions and Secrets Manager are the drill's
  // local stand-ins, not the simulated AWS; the target account's S3 (ACLs, Block Public Access) is simulated and checked.
  const awsActions = (actions: string[]) =>
    actions.filter((a) => !/^(dynamodb|sns|states|secretsmanager):/.test(a) && !/^s3:(GetObject|PutObject|DeleteObject)$/.test(a));

  it('every call a handler makes is one it declares', () => {
    expect(used.size).toBeGreaterThanOrEqual(4);
    for (const [fn, actions] of used) {
      const allowed = new Set(declared(fn));
      expect({ fn, undeclared: [...actions].filter((a) => !allowed.has(a)) }).toEqual({ fn, undeclared: [] });
    }
  });

  it('every AWS action a handler declares is used by some scenario', () => {
    for (const [fn] of deployedFunctions()) {
      const unused = awsActions(declared(fn)).filter((a) => !used.get(fn)?.has(a));
      expect({ fn, unused }).toEqual({ fn, unused: [] });
    }
  });

  it("no --approve all drill reports the responders' own root work as an attacker finding", () => {
    expect(new Set(reports.map((r) => r.scenario)).size).toBeGreaterThanOrEqual(listScenarios().length - 1);
    // The simulated responders' console work is recorded under event ids drill-<task>-... (drill/drill.ts doConsoleWork).
    const ours = (id: string) => id.startsWith('drill-');
    for (const { scenario, incidentId, report } of reports) {
      const asFindings = report.findings.filter((f) => f.evidence.some(ours)).map((f) => f.title);
      const raised = report.responderActivity.filter((a) => a.status !== 'confirmed').map((a) => `${a.taskId} ${a.eventName}`);
      expect({ scenario, incidentId, asFindings, raised }).toEqual({ scenario, incidentId, asFindings: [], raised: [] });
    }
    // Not vacuous: the responders did root console work somewhere, and it was recognised as theirs.
    expect(reports.some(({ report }) => report.responderActivity.some((a) => a.status === 'confirmed' && ours(a.eventId)))).toBe(true);
  });

  it('the member roles the organization templates deploy allow every call made under them', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { build } = require(join(PROJECT_ROOT, 'infra', 'member-templates.cjs')) as {
      build: (t: unknown, stage: string) => { roles: { Resources: unknown } };
    };
    const roles = parseResources(build(packagedTemplate(), 'test').roles.Resources);
    const granted = (logicalId: string) =>
      new Set(propertiesAt(roles, logicalId, 'AWS::IAM::Role').Policies![0]!.PolicyDocument.Statement[0]!.Action as string[]);
    expect([...byMemberRole.keys()].sort()).toEqual(['role:root-responder-read', 'role:root-responder-remediate']);
    for (const [principal, logicalId] of [
      ['role:root-responder-read', 'ReadRole'],
      ['role:root-responder-remediate', 'WriteRole'],
    ] as const) {
      const allowed = granted(logicalId);
      expect({ principal, notGranted: [...byMemberRole.get(principal)!].filter((a) => !allowed.has(a)).sort() }).toEqual({
        principal,
        notGranted: [],
      });
    }
  });
});
