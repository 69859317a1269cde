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

describe('drill: data-exposure, S3 made public (account and bucket Block Public Access off, a bucket ACL to AllUsers)', () => {
  let result: DrillResult;
  let report: Report;
  let markdown: string;
  const ACCOUNT = '246813579024';
  const ALL = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'data-exposure-s3-'));
    result = await runDrill({ scenario: 'data-exposure', approve: 'all', out: dir });
    report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    markdown = readFileSync(join(dir, 'report.md'), 'utf8');
  });

  it('each S3 exposure is a finding naming the resource, with its undo proposed and marked fixed', () => {
    const s3 = report.findings.filter((f) => ['s3-public-access-block', 's3-bucket-acl'].includes(f.exposure?.kind ?? ''));
    const byTitle = (a: { title: string }, b: { title: string }) => a.title.localeCompare(b.title);
    expect([...s3].sort(byTitle).map((f) => [f.title, f.exposure!.undo, f.resolution !== undefined])).toEqual([
      [
        'S3 Block Public Access removed for the account in us-east-1',
        { kind: 'restore-public-access-block', reversible: true, status: 'proposed' },
        true,
      ],
      [
        'S3 Block Public Access turned off (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets) for bucket acme-data-exports in eu-west-1',
        { kind: 'restore-public-access-block', reversible: true, status: 'proposed' },
        true,
      ],
      [
        'S3 bucket acme-data-exports ACL granted to everyone (AllUsers (READ)) in eu-west-1',
        { kind: 'revert-bucket-acl', reversible: true, status: 'proposed' },
        true,
      ],
    ]);
  });

  it("the account's S3 ends with every block on and the AllUsers grant gone, the owner and the log-delivery grant kept", () => {
    const s3 = result.aws.s3Account.state(ACCOUNT, result.aws.account(ACCOUNT).events);
    expect(s3.accountPublicAccessBlock).toEqual(ALL);
    const bucket = s3.buckets['acme-data-exports']!;
    expect(bucket.region).toBe('eu-west-1');
    expect(bucket.publicAccessBlock).toEqual(ALL);
    expect(bucket.grants.map((g) => `${g.Grantee.URI ?? g.Grantee.ID} ${g.Permission}`)).toEqual([
      '7f3b2a1c9d8e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a FULL_CONTROL',
      'http://acs.amazonaws.com/groups/s3/LogDelivery WRITE',
    ]);
    // The bucket's calls went to its own region; the account's to S3 Control.
    const calls = result.aws.calls.filter((c) => /PublicAccessBlock|BucketAcl/.test(c.command) && c.accountId === ACCOUNT);
    // The only error: the account had no configuration after root deleted it (S3 Control's NoSuchPublicAccessBlockConfiguration).
    expect(calls.filter((c) => c.error).map((c) => [c.command, c.error])).toEqual([
      ['S3ControlGetPublicAccessBlockCommand', 'NoSuchPublicAccessBlockConfiguration'],
    ]);
    expect([...new Set(calls.filter((c) => !c.command.startsWith('S3Control')).map((c) => c.region))]).toEqual(['eu-west-1']);
    expect(calls.map((c) => c.command)).toEqual(expect.arrayContaining(['S3ControlPutPublicAccessBlockCommand', 'PutBucketAclCommand']));
  });

  it('the report lists each undo command, and says the blocks were turned on by default (nothing recorded before)', () => {
    expect(markdown).toContain(`aws s3control delete-public-access-block --account-id ${ACCOUNT} --region us-east-1`);
    expect(markdown).toContain(
      'aws s3api put-public-access-block --bucket acme-data-exports --public-access-block-configuration BlockPublicAcls=false,IgnorePublicAcls=false,BlockPublicPolicy=false,RestrictPublicBuckets=false --region eu-west-1',
    );
    expect(markdown).toContain("aws s3api put-bucket-acl --bucket acme-data-exports --access-control-policy '");
    expect(markdown).toContain(
      `Approve: Restore S3 Block Public Access ("default": none recorded before, so all four on): account BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets default in us-east-1`,
    );
    expect({ status: report.status, open: report.openItems }).toEqual({ status: 'resolved', open: [] });
  });
});
