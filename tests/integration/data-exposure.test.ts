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
