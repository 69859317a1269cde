import { ruleName } from '#infra/names.cjs';

/**
 * The forwarding rules every other account and region runs (`.serverless/member-forwarding.json`):
 * the responder's own intake rules, by their logical ids, and the canary's. Deployed as
 * `root-responder-<stage>-<id>`; the pipeline check looks for exactly these names.
 */
export const FORWARDED_RULES = [
  'RootSignInRule',
  'RootApiCallRule',
  'RootConsoleActionRule',
  'RootPasswordRecoveryRule',
  'GuardDutyRootFindingRule',
  'CanaryRule',
] as const;

export function forwardingRuleName(stage: string, id: string): string {
  return ruleName(stage, id);
}
