import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Handler } from '#drill/deployment';
import { type DrillResult, runDrill } from '#drill/drill';
import type { SimulatedS3 } from '#drill/simulated-s3';
import { rootSnapshotOf } from '#shared/contracts/snapshot';
import { type WorkflowState, WorkflowStateSchema } from '#shared/contracts/workflow-state';

/**
 * The drill passes the baseline as the stack does: one object in the config bucket, named by the
 * functions' environment, read from a simulated S3 that answers as S3 does.
 */
const READERS = new Set(['snapshotRootCredentials', 'collectEvidence', 'verifyHumanTask', 'runApprovedAction']);
const out = () => mkdtempSync(join(tmpdir(), 'baseline-drill-'));
const outputOf = (r: DrillResult): WorkflowState => WorkflowStateSchema.parse(r.executions[0]!.output);

/** Run a drill, counting the invocations of each function and keeping the simulated config bucket. */
async function drill(change?: (s3: SimulatedS3, where: { bucket: string; key: string }) => void) {
  const invocations = new Map<string, number>();
  let bucket: SimulatedS3 | undefined;
  let object: { bucket: string; key: string } | undefined;
  const result = await runDrill({
    scenario: 'member-account',
    approve: 'all',
    out: out(),
    configBucket: (s3, where) => {
      bucket = s3;
      object = where;
      change?.(s3, where);
    },
    handlerFor: (fn, deployed): Handler => {
      return (event) => {
        invocations.set(fn, (invocations.get(fn) ?? 0) + 1);
        return deployed(event);
      };
    },
  });
  return { result, invocations, s3: bucket!, object: object! };
}

describe('the baseline in the drill', () => {
  it('is read once per invocation by the functions that compare with it, and only by them; its MFA baseline decides the finding', async () => {
    const { result, invocations, s3, object } = await drill();
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    const readerInvocations = [...invocations].filter(([fn]) => READERS.has(fn)).reduce((sum, [, n]) => sum + n, 0);
    expect(readerInvocations).toBeGreaterThanOrEqual(4);
    expect(s3.reads).toHaveLength(readerInvocations);
    expect(new Set(s3.reads.map((r) => `${r.bucket}/${r.key}`))).toEqual(new Set([`${object.bucket}/${object.key}`]));
    // The scenario registered ops-yubikey-1 on root; the other device on root is the unexpected one.
    const snapshot = rootSnapshotOf(outputOf(result).snapshot)!;
    expect(snapshot.unexpectedMfaDevices.length).toBeGreaterThan(0);
    expect(snapshot.unexpectedMfaDevices.join(' ')).not.toContain('ops-yubikey-1');
  });

  it('a missing baseline object is a BaselineMissingError in the steps that need it; containment still runs and the report names it', async () => {
    const { result } = await drill((s3, { bucket, key }) => s3.delete(bucket, key));
    const events = result.executions[0]!.events;
    const failures = events.filter((e) => e.error).map((e) => `${e.state}: ${e.error}`);
    expect(failures).toEqual(
      expect.arrayContaining(['Snapshot Root Credentials: BaselineMissingError', 'Collect Evidence: BaselineMissingError']),
    );
    const output = outputOf(result);
    expect(output.containAndCollect!.Payload.evidence).toMatchObject({ status: 'failed', error: { Error: 'BaselineMissingError' } });
    expect(output.containAndCollect!.Payload.containment.status).not.toBe('failed');
    const report = readFileSync(join(result.outDir, 'report.md'), 'utf8');
    expect(report).toContain('BaselineMissingError');
  });

  it('an object changed after the stack wrote it is refused (InvalidBaselineError), never used', async () => {
    const { result } = await drill((s3, { bucket, key }) =>
      s3.put(bucket, key, '{"expectedAlternateContacts":{},"expectedOrganizationId":null,"expectedRootMfaDevices":{}}'),
    );
    const failures = result.executions[0]!.events.filter((e) => e.error).map((e) => `${e.state}: ${e.error}`);
    expect(failures).toEqual(
      expect.arrayContaining(['Snapshot Root Credentials: InvalidBaselineError', 'Collect Evidence: InvalidBaselineError']),
    );
  });
});
