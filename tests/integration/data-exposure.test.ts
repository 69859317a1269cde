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

describe('drill: data-exposure, the grants and permissions root gave (KMS grant, Lambda permission and URL, RAM share)', () => {
  let result: DrillResult;
  let report: Report;
  let markdown: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'data-exposure-grants-'));
    result = await runDrill({ scenario: 'data-exposure', approve: 'all', out: dir });
    report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    markdown = readFileSync(join(dir, 'report.md'), 'utf8');
  });
  const ofKind = (kind: string) => report.findings.filter((f) => f.exposure?.undo.kind === kind);

  it('each is a critical finding naming the resource and to whom, its undo proposed', () => {
    const titles = (kind: string) => ofKind(kind).map((f) => [f.severity, f.title, f.exposure!.undo.status]);
    expect(titles('revoke-kms-grant')).toEqual([
      [
        'critical',
        expect.stringMatching(
          /^KMS key arn:aws:kms:us-east-1:246813579024:key\/\S+ grant \w+ \(Decrypt, GenerateDataKey, DescribeKey\) created to account 444455556666 outside this account in us-east-1$/,
        ),
        'proposed',
      ],
    ]);
    expect(titles('remove-lambda-permission')).toEqual([
      [
        'critical',
        'Lambda function invoice-export resource policy allows lambda:InvokeFunctionUrl to everyone (*) in us-east-1',
        'proposed',
      ],
    ]);
    expect(titles('require-function-url-auth')).toEqual([
      ['critical', 'Lambda function invoice-export given a function URL with auth type NONE to everyone (*) in us-east-1', 'proposed'],
    ]);
    expect(titles('disassociate-resource-share')).toEqual([
      [
        'critical',
        expect.stringMatching(
          /^Resource share arn:aws:ram:eu-west-1:246813579024:resource-share\/\S+ \(1 resource\(s\)\) shared to account 444455556666 outside this account in eu-west-1$/,
        ),
        'proposed',
      ],
    ]);
  });

  it('each undo ran on approval against the simulated account and was verified: the finding is fixed', () => {
    const changes = result.aws.changes.map((c) => c.change);
    expect(changes).toEqual(
      expect.arrayContaining(['kms-revoke-grant', 'lambda-remove-permission', 'lambda-function-url-auth', 'ram-disassociate']),
    );
    const state = result.aws.grantsState('246813579024', 'us-east-1');
    expect(Object.keys(state.kmsGrants)).toEqual([]);
    expect(state.functions['invoice-export']).toMatchObject({ statements: [], url: { AuthType: 'AWS_IAM' } });
    expect(Object.values(result.aws.grantsState('246813579024', 'eu-west-1').shares).map((s) => s.principals)).toEqual([
      { '444455556666': 'DISASSOCIATED' },
    ]);
    for (const kind of ['revoke-kms-grant', 'remove-lambda-permission', 'require-function-url-auth', 'disassociate-resource-share'])
      expect(ofKind(kind).map((f) => f.resolution?.text)).toEqual([expect.any(String)]);
    expect(markdown).toContain('aws lambda update-function-url-config --function-name invoice-export --auth-type NONE --region us-east-1');
    expect(markdown).toMatch(/aws kms create-grant --key-id \S+ --grantee-principal arn:aws:iam::444455556666:root/);
  });
});
