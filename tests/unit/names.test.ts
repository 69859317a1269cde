import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as names from '#infra/names.cjs';
import { PROJECT_ROOT } from '#drill/deployment';

/**
 * Names given outside the stack's logical ids are defined once, in infra/names.cjs: member roles,
 * forwarding and canary roles and schedules, rules, StackSets, the responders' secret. A literal
 * spelling of one anywhere else would drift from it.
 */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('one source of truth for names', () => {
  it('no code, template or config spells a stage-derived or member-role name itself', () => {
    const sources = [
      ...files(join(PROJECT_ROOT, 'functions')),
      ...files(join(PROJECT_ROOT, 'infra')),
      ...files(join(PROJECT_ROOT, 'config')),
      join(PROJECT_ROOT, 'serverless.yml'),
    ].filter((f) => /\.(ts|cjs|yml|json)$/.test(f) && !f.includes('aws-managed-policies') && !/infra\/names\.d?\.?c[tj]s$/.test(f));
    const literal = /root-responder-(read|remediate)\b|root-responder-\$\{|root-responder\/\$\{/;
    const offenders = sources.filter((f) => literal.test(readFileSync(f, 'utf8'))).map((f) => relative(PROJECT_ROOT, f));
    expect(offenders).toEqual([]);
  });

  it('derives every stage name from one prefix', () => {
    expect(names.prefix('prod')).toBe('root-responder-prod-');
    for (const name of [
      names.ruleName('prod', 'RootSignInRule'),
      names.forwardingRoleName('prod'),
      names.canaryRoleName('prod'),
      names.canaryScheduleName('prod'),
      names.stackSetName('prod', 'roles'),
    ])
      expect(name.startsWith(names.prefix('prod'))).toBe(true);
    expect(names.stackName('prod')).toBe('root-responder-prod');
    expect([names.MEMBER_READ_ROLE, names.MEMBER_WRITE_ROLE]).toEqual(['root-responder-read', 'root-responder-remediate']);
  });
});
