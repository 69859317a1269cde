import { expect } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
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
describe('least privilege, from what the handlers actually call', () => {
  const used = new Map<string, Set<string>>();
  /** What each member-account role was used for (`role:root-responder-read`, `role:root-responder-remediate`). */
  const byMemberRole = new Map<string, Set<string>>();

  beforeAll(async () => {
    for (const { name } of listScenarios()) {
      const result = await runDrill({ scenario: name, approve: 'all', out: mkdtempSync(join(tmpdir(), 'lp-')) });
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
  }, 120_000); // every bundled scenario, on a machine that may be busy

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
