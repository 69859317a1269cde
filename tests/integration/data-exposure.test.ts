import { expect } from '@jest/globals';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DrillResult, runDrill } from '#drill/drill';

/**
 * The drill's data-exposure scenario with every link approved: a root sign-in without MFA from an
 * unknown address, then root shares data and opens resources (records written from the documented
 * CloudTrail shapes, scenarios/data/data_exposure_*__written.json). Each exposure is a finding that
 * names the resource and to whom; each undo is proposed, run on approval, verified by API, and the
 * report names it.
 */
interface Report {
  status: string;
  findings: {
    id: string;
    title: string;
    severity: string;
    resolution?: { text: string };
    exposure?: { kind: string; resource: { id: string }; undo: { kind: string; status: string } };
  }[];
  openItems: string[];
}

describe('drill: data-exposure, every link approved', () => {
  let result: DrillResult;
  let report: Report;
  let markdown: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'data-exposure-'));
    result = await runDrill({ scenario: 'data-exposure', approve: 'all', out: dir });
    report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    markdown = readFileSync(join(dir, 'report.md'), 'utf8');
  });

  it('ends resolved, with nothing open', () => {
    expect({ status: report.status, open: report.openItems }).toEqual({ status: 'resolved', open: [] });
    expect(result.executions.every((e) => e.status === 'SUCCEEDED')).toBe(true);
  });

  it('opened on the sign-in from outside the known networks, with root MFA off', () => {
    expect(report.findings.filter((f) => f.severity === 'critical').map((f) => f.title)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Root signed in from 111\.111\.111\.111 /), 'Root MFA is off']),
    );
    expect(markdown).toMatch(/Fixed during the incident/);
  });
});

describe('drill: data-exposure, bucket and key policies root opened', () => {
  const A = 'acme-data-reports';
  const B = 'acme-data-exports';
  const C = 'acme-data-archive';
  const KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';
  const run = async (consoleWork: boolean) => {
    const dir = mkdtempSync(join(tmpdir(), 'data-exposure-policies-'));
    const result = await runDrill({ scenario: 'data-exposure', approve: 'all', consoleWork, out: dir });
    return { result, report: JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report };
  };
  const policyOf = (result: DrillResult, region: string) => result.aws.policyState('246813579024', region);
  const sids = (policy: string | null | undefined) =>
    (JSON.parse(policy ?? 'null') as { Statement: { Sid: string }[] }).Statement.map((s) => s.Sid);
  let done: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    done = await run(true);
  });

  it('names each policy exposure, to whom, with its undo', () => {
    const titles = done.report.findings.filter((f) => f.exposure?.kind === 's3-bucket-policy' || f.exposure?.kind === 'kms-key-policy');
    expect(titles.map((f) => [f.exposure!.resource.id, f.exposure!.undo.kind, f.exposure!.undo.status, f.severity]).sort()).toEqual(
      [
        [A, 'revert-bucket-policy', 'proposed', 'critical'],
        [B, 'revert-bucket-policy', 'proposed', 'critical'],
        [C, 'revert-bucket-policy', 'proposed', 'critical'],
        [KEY, 'revert-key-policy', 'proposed', 'critical'],
      ].sort(),
    );
    expect(titles.find((f) => f.exposure!.resource.id === A)!.title).toMatch(/to everyone \(\*\) in us-east-1/);
    expect(titles.find((f) => f.exposure!.resource.id === B)!.title).toMatch(/to account 444455556666 outside this account/);
  });

  it("puts back bucket A's earlier policy, deletes C's (it had none), makes B private by hand, puts back the key's: each fixed", () => {
    const s3 = policyOf(done.result, 'us-east-1');
    expect(JSON.parse(s3.buckets[A]!)).toEqual({
      Version: '2012-10-17',
      Statement: [expect.objectContaining({ Sid: 'OwnAccountRead' })],
    });
    expect(s3.buckets[C]).toBeNull();
    expect(sids(s3.buckets[B])).toEqual(['OwnAccountOnly']);
    expect(sids(policyOf(done.result, 'eu-west-1').keys[KEY])).toEqual(['Enable IAM User Permissions']);
    const changes = done.result.aws.changes.map((c) => `${c.change} ${c.target}`);
    expect(changes).toEqual(
      expect.arrayContaining([
        `s3-put-bucket-policy ${A}`,
        `s3-delete-bucket-policy ${C}`,
        `kms-put-key-policy ${KEY}`,
        expect.stringMatching(/^console:replaced the policy of S3 bucket acme-data-exports in us-east-1/),
      ]),
    );
    // Only B was done by hand: the responder changed nothing there.
    expect(changes).not.toContain(`s3-put-bucket-policy ${B}`);
    const fixed = done.report.findings.filter((f) => /^(S3 bucket|KMS key) .* policy set/.test(f.title));
    expect(fixed.map((f) => f.resolution?.text ?? 'open')).toEqual(fixed.map(() => expect.stringMatching(/verified by API/)));
  });

  it('nobody makes bucket B private: it stays exposed and the incident needs attention', async () => {
    const { report, result } = await run(false);
    expect(report.status).toBe('needs-attention');
    expect(report.openItems).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^S3 bucket ${B} policy set to account 444455556666 .*still exposed`))]),
    );
    expect(sids(policyOf(result, 'us-east-1').buckets[B])).toEqual(['PartnerRead']);
    // What the responder could do alone it did.
    expect(policyOf(result, 'us-east-1').buckets[C]).toBeNull();
  });
});
