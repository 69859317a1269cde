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

describe('drill: data-exposure, the compute root made that no API undoes: a tracked review task each', () => {
  let result: DrillResult;
  let report: Report & { humanTasks: { id: string; title: string; status: string; verified: boolean | null }[] };
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'data-exposure-review-'));
    result = await runDrill({ scenario: 'data-exposure', approve: 'all', out: dir });
    report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as typeof report;
  });

  it('plans a review task for the function and for the quota request, with what to check and how', () => {
    const plan = JSON.parse(readFileSync(join(dir, 'assessment', 'plan.json'), 'utf8')) as {
      tasks: { id: string; kind: string; title: string; steps: string[]; verification: string }[];
    };
    const fn = plan.tasks.find((t) => t.id === 'review-function-nightly-sync-eu-west-1')!;
    expect(fn).toMatchObject({ kind: 'console', title: 'Review the Lambda function root created: nightly-sync in eu-west-1' });
    expect(fn.steps.join(' ')).toMatch(/If nobody does, delete it/);
    expect(fn.verification).toMatch(/^lambda:GetFunction: the function is gone, or the approval comment says it is kept/);
    const quota = plan.tasks.find((t) => t.id === 'review-quota-request-ec2-l-417a185b-us-east-1')!;
    expect(quota).toMatchObject({ kind: 'console', title: 'Review the quota increase root requested: ec2/L-417A185B to 512 in us-east-1' });
    expect(quota.steps.join(' ')).toMatch(/AWS Support asking them to withdraw it/);
    expect(quota.verification).toMatch(/^Not verified by API: /);
  });

  it('the simulated responders do them: the function is deleted and GetFunction confirms it; the quota task says it is not checked by API', () => {
    expect(result.aws.changes.map((c) => c.change)).toEqual(
      expect.arrayContaining([
        'console:deleted Lambda function nightly-sync in eu-west-1 (nobody owns it)',
        'console:asked AWS Support to withdraw the quota request',
      ]),
    );
    const tasks = Object.fromEntries(report.humanTasks.map((t) => [t.id, t]));
    expect(tasks['review-function-nightly-sync-eu-west-1']).toMatchObject({ status: 'done', verified: true });
    expect(tasks['review-quota-request-ec2-l-417a185b-us-east-1']).toMatchObject({ status: 'done', verified: null });
    expect(result.aws.calls.filter((c) => c.command === 'GetFunctionCommand').map((c) => c.error ?? 'found')).toEqual([
      'ResourceNotFoundException',
    ]);
  });

  it('their findings end fixed, and nothing is left open for them', () => {
    const byKind = (kind: string) => report.findings.find((f) => f.exposure?.kind === kind)!;
    expect(byKind('lambda-function').resolution!.text).toMatch(/; reviewed at .* verified by API\)\.$/);
    expect(byKind('service-quota-increase').resolution!.text).toMatch(
      /; reviewed at .* not verifiable by API: the responder confirmed\)\.$/,
    );
    expect(report.openItems.filter((i) => /nightly-sync|L-417A185B|review-/.test(i))).toEqual([]);
  });
});

describe('drill: data-exposure, the shared snapshots (EBS, RDS, Aurora) unshared', () => {
  let result: DrillResult;
  let report: Report & {
    humanTasks: { id: string; status: string; verified: boolean | null }[];
    remediations: { action: string; target: string }[];
  };
  let markdown: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'data-exposure-snapshots-'));
    result = await runDrill({ scenario: 'data-exposure', approve: 'all', out: dir });
    report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as typeof report;
    markdown = readFileSync(join(dir, 'report.md'), 'utf8');
  });
  const SHARES = [
    {
      title: 'EBS snapshot snap-0d4e5f6a7b8c90017 shared (createVolumePermission) to everyone (all) in us-east-1',
      id: 'snap-0d4e5f6a7b8c90017',
      undo: 'remove-snapshot-share',
      target: 'snap-0d4e5f6a7b8c90017 all',
    },
    {
      title: 'RDS snapshot customers-2018-12-31 shared for restore to account 444455556666 outside this account in eu-west-1',
      id: 'customers-2018-12-31',
      undo: 'remove-db-snapshot-share',
      target: 'instance customers-2018-12-31 444455556666',
    },
    {
      title: 'RDS cluster snapshot ledger-aurora-2018-12-31 shared for restore to everyone (all) in us-east-1',
      id: 'ledger-aurora-2018-12-31',
      undo: 'remove-db-snapshot-share',
      target: 'cluster ledger-aurora-2018-12-31 all',
    },
  ];

  it('names each shared snapshot and to whom, critical, with its undo proposed', () => {
    for (const s of SHARES)
      expect(report.findings.find((f) => f.exposure?.resource.id === s.id)).toMatchObject({
        title: s.title,
        severity: 'critical',
        exposure: { undo: { kind: s.undo, status: 'proposed' } },
      });
    expect(report.remediations.filter((r) => /snapshot-share$/.test(r.action)).map((r) => [r.action, r.target])).toEqual(
      SHARES.map((s) => [s.undo, s.target]),
    );
  });

  it('each undo ran once on approval, removed exactly the grantees root added, and was verified by API', () => {
    expect(
      result.aws.changes
        .filter((c) => /snapshot-share/.test(c.change))
        .map((c) => `${c.change} ${c.target}`)
        .sort(),
    ).toEqual([
      'ec2-remove-snapshot-share snap-0d4e5f6a7b8c90017/all',
      'rds-remove-cluster-snapshot-share ledger-aurora-2018-12-31/all',
      'rds-remove-snapshot-share customers-2018-12-31/444455556666',
    ]);
    expect(report.humanTasks.filter((t) => /snapshot-share/.test(t.id))).toEqual(
      Array(3).fill(expect.objectContaining({ status: 'done', verified: true })),
    );
    const account = result.aws.world.accounts['246813579024']!.accountId;
    expect(result.aws.ec2State(account, 'us-east-1').snapshots['snap-0d4e5f6a7b8c90017']!.createVolumePermissions).toEqual([]);
    expect(result.aws.rdsSnapshots.state(account, 'eu-west-1').instance['customers-2018-12-31']!.restore).toEqual([]);
    expect(result.aws.rdsSnapshots.state(account, 'us-east-1').cluster['ledger-aurora-2018-12-31']!.restore).toEqual([]);
  });

  it('report.md names each undo, reversible, done by the approved remediation and verified', () => {
    for (const s of SHARES) {
      const line = markdown.split('\n').find((l) => l.includes(s.id) && l.includes(`Undo: \`${s.undo}\``)) ?? '';
      expect(line).toContain('(reversible; done: ');
      expect(line).toContain(`by the approved remediation ${s.undo} on `);
      expect(line).toContain('verified by API');
    }
    expect(markdown).toContain(
      'aws rds modify-db-snapshot-attribute --db-snapshot-identifier customers-2018-12-31 --attribute-name restore',
    );
    expect(report).toMatchObject({ status: 'resolved', openItems: [] });
  });
});
