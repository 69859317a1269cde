import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseStageConfig, type StageConfig } from '#shared/config';
import { audit, type AuditClients, formatAudit } from './audit';
import { PROJECT_ROOT } from '#drill/deployment';
import type { CommandIO } from './triage-command';

/**
 * `root-responder audit [--stage S] [--profile P] [--region R] [--bucket B] [--members] [--json]`:
 * read-only checks of the account the credentials belong to. Exit 0 only when every check passes;
 * 1 when one fails or cannot be read; 2 on a usage error.
 */
export interface AuditDeps {
  /** Clients for the account the credentials belong to (the profile, when given, is already set). */
  clients(region: string): AuditClients;
  accountId(): Promise<string>;
  /** Where config/<stage>.json is looked for (default: the project's config/). */
  configDir?: string;
}

const USAGE = 'usage: root-responder audit [--stage STAGE] [--profile PROFILE] [--region REGION] [--bucket BUCKET] [--members] [--json]';

export async function auditCommand(args: string[], io: CommandIO, deps: AuditDeps): Promise<number> {
  const options: { stage: string; region: string; bucket?: string; members: boolean; json: boolean } = {
    stage: 'prod',
    region: 'us-east-1',
    members: false,
    json: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => {
      const v = args[++i];
      if (!v || v.startsWith('--')) throw new Error(`${arg} takes a value`);
      return v;
    };
    try {
      if (arg === '--stage') options.stage = value();
      else if (arg === '--region') options.region = value();
      else if (arg === '--bucket') options.bucket = value();
      else if (arg === '--profile')
        value(); // read by the caller before the clients were made
      else if (arg === '--members') options.members = true;
      else if (arg === '--json') options.json = true;
      else throw new Error(`unknown option ${arg}`);
    } catch (error) {
      io.stderr(`audit: ${(error as Error).message}\n${USAGE}`);
      return 2;
    }
  }
  if (!/^[a-z0-9-]+$/.test(options.stage)) {
    io.stderr(`audit: --stage takes a stage name such as prod\n${USAGE}`);
    return 2;
  }
  let config: StageConfig | undefined;
  const file = join(deps.configDir ?? join(PROJECT_ROOT, 'config'), `${options.stage}.json`);
  if (existsSync(file)) {
    try {
      config = parseStageConfig(JSON.parse(readFileSync(file, 'utf8')), `config/${options.stage}.json`);
    } catch (error) {
      io.stderr(`audit: ${(error as Error).message}`);
      return 2;
    }
  } else if (!options.json) {
    io.stderr(
      `audit: no config/${options.stage}.json here: contacts are checked for presence only, and COMPLIANCE Object Lock is expected.`,
    );
  }
  let accountId: string;
  try {
    accountId = await deps.accountId();
  } catch (error) {
    io.stderr(
      `audit: cannot tell which account these credentials belong to (sts:GetCallerIdentity): ${(error as Error).name}: ${(error as Error).message}`,
    );
    return 2;
  }
  const checks = await audit(deps.clients(options.region), {
    stage: options.stage,
    accountId,
    region: options.region,
    members: options.members,
    ...(config ? { config } : {}),
    ...(options.bucket ? { bucket: options.bucket } : {}),
  });
  if (options.json) io.stdout(JSON.stringify({ accountId, stage: options.stage, checks }, null, 2));
  else formatAudit(checks, accountId).forEach((line) => io.stdout(line));
  return checks.every((c) => c.status === 'pass') ? 0 : 1;
}
