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

/**
 * One drill run per setting (simulated responders doing the console work or not), shared by every
 * block below: each reads what it checks from the same run's results and files.
 */
const runs = new Map<boolean, Promise<{ result: DrillResult; dir: string }>>();
function drill(consoleWork = true): Promise<{ result: DrillResult; dir: string }> {
  let run = runs.get(consoleWork);
  if (!run) {
    const dir = mkdtempSync(join(tmpdir(), 'data-exposure-'));
    run = runDrill({ scenario: 'data-exposure', approve: 'all', consoleWork, out: dir }).then((result) => ({ result, dir }));
    runs.set(consoleWork, run);
  }
  return run;
}

describe('drill: data-exposure, every link approved', () => {
  let result: DrillResult;
  let report: Report;
  let markdown: string;
  beforeAll(async () => {
    const run = await drill();
    const dir = run.dir;
    result = run.result;
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
    ({ result, dir } = await drill());
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
    const run = await drill();
    const dir = run.dir;
    result = run.result;
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

describe('drill: data-exposure, S3 made public (account and bucket Block Public Access off, a bucket ACL to AllUsers)', () => {
  let result: DrillResult;
  let report: Report;
  let markdown: string;
  const ACCOUNT = '246813579024';
  const ALL = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
  beforeAll(async () => {
    const run = await drill();
    const dir = run.dir;
    result = run.result;
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

describe('drill: data-exposure, bucket and key policies root opened', () => {
  const A = 'acme-data-reports';
  const B = 'acme-data-exports';
  const C = 'acme-data-archive';
  const KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';
  const run = async (consoleWork: boolean) => {
    const { result, dir } = await drill(consoleWork);
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

describe('drill: data-exposure, the grants and permissions root gave (KMS grant, Lambda permission and URL, RAM share)', () => {
  let result: DrillResult;
  let report: Report;
  let markdown: string;
  beforeAll(async () => {
    const run = await drill();
    const dir = run.dir;
    result = run.result;
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
