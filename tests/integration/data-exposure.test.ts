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
