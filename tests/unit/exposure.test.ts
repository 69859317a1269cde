import { classifyWindow, type Finding } from '#shared/findings';
import { knownSources } from '#shared/known-sources';
import { fixture } from '../helpers';

/**
 * Exposure and abuse findings, on records written from AWS's documented CloudTrail field shapes
 * (tests/fixtures/written/*__written.json) and the published Panther scenario's RunInstances.
 */
type Rec = Record<string, unknown>;
const ACCOUNT = '493859302102';
const written = fixture<Rec[]>('written/root_exposure_and_abuse_calls__written.json');
const amiAndSg = fixture<Rec[]>('written/root_ami_public_sg_open_ssh_ipv6__written.json');
const panther = fixture<Rec[]>('cloudtrail/timeline/panther_scenario__compromised_root_creds__attacker_cloudtrail.json');

const classify = (records: Rec[], organizationAccounts?: string[], query = (_r: Rec) => 'root') =>
  classifyWindow(
    records.map((record) => ({ region: String(record['awsRegion']), record, query: query(record) })),
    {
      known: knownSources(['203.0.113.0/24']),
      exposure: { accountId: ACCOUNT, ...(organizationAccounts ? { organizationAccounts: new Set(organizationAccounts) } : {}) },
    },
  ).findings;
const byEvent = (findings: Finding[], id: string) => findings.filter((f) => f.evidence.includes(id));

describe('exposure findings name the resource, what changed, to whom, and the evidence event', () => {
  const findings = classify([...amiAndSg, ...written]);

  it('an AMI made public: its id, launch permission to all, the undo it will use', () => {
    const [f] = byEvent(findings, '5b0e6f4a-6f7d-4c1e-9d55-000000000011');
    expect(f).toMatchObject({
      category: 'exposure',
      severity: 'critical',
      title: 'AMI ami-0a1b2c3d4e5f67890 launch permission granted to everyone (all) in us-east-1',
      exposure: {
        kind: 'ami-launch-permission',
        resource: { type: 'AMI', id: 'ami-0a1b2c3d4e5f67890', region: 'us-east-1' },
        public: true,
        change: { imageId: 'ami-0a1b2c3d4e5f67890', launchPermission: { add: [{ group: 'all' }] } },
        undo: { kind: 'remove-launch-permission', reversible: true, status: 'proposed' },
        event: { id: '5b0e6f4a-6f7d-4c1e-9d55-000000000011', at: '2020-11-01T08:38:10Z', sourceIPAddress: '92.55.146.245' },
      },
    });
    expect(f!.detail).toContain('Root called ModifyImageAttribute at 2020-11-01T08:38:10Z from 92.55.146.245');
  });

  it('SSH opened to ::/0: the group, the port, and the exact permission and rule id to revoke', () => {
    const [f] = byEvent(findings, '5b0e6f4a-6f7d-4c1e-9d55-000000000012');
    expect(f!.title).toBe('Security group sg-07ebc4087aa0b2a81 opened on TCP port 22 from ::/0 to everyone (::/0) in us-east-1');
    expect(f!.exposure).toMatchObject({
      kind: 'security-group-ingress',
      undo: { kind: 'revoke-security-group-ingress' },
      change: {
        groupId: 'sg-07ebc4087aa0b2a81',
        ipPermissions: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipv6Ranges: { items: [{ cidrIpv6: '::/0' }] } }],
        securityGroupRuleIds: ['sgr-0b1c2d3e4f5a6b7c8'],
      },
    });
  });

  it('all protocols from 0.0.0.0/0: only the open permission is kept for the undo, not the private one beside it', () => {
    const [f] = byEvent(findings, '5b0e6f4a-6f7d-4c1e-9d55-000000000037');
    expect(f!.title).toBe(
      'Security group sg-0aaa1111bbbb2222c opened on all ports, all protocols from 0.0.0.0/0 to everyone (0.0.0.0/0) in eu-west-1',
    );
    expect((f!.exposure!.change['ipPermissions'] as unknown[]).length).toBe(1);
  });

  it('every kind of the issue is found, each with its undo kind', () => {
    const kinds = Object.fromEntries(
      findings.filter((f) => f.exposure).map((f) => [`${f.exposure!.kind} ${f.exposure!.resource.id}`, f.exposure!.undo.kind]),
    );
    expect(kinds).toEqual({
      'ami-launch-permission ami-0a1b2c3d4e5f67890': 'remove-launch-permission',
      'ami-launch-permission ami-0fedcba9876543210': 'remove-launch-permission',
      'security-group-ingress sg-07ebc4087aa0b2a81': 'revoke-security-group-ingress',
      'security-group-ingress sg-0aaa1111bbbb2222c': 'revoke-security-group-ingress',
      'ebs-snapshot-share snap-0123456789abcdef0': 'remove-snapshot-share',
      'rds-snapshot-share prod-db-2020-10-31': 'remove-db-snapshot-share',
      'rds-cluster-snapshot-share prod-aurora-2020-10-31': 'remove-db-snapshot-share',
      's3-bucket-policy acme-customer-exports': 'revert-bucket-policy',
      's3-bucket-acl acme-backups': 'revert-bucket-acl',
      's3-public-access-block acme-backups': 'restore-public-access-block',
      's3-public-access-block account public access block': 'restore-public-access-block',
      'kms-key-policy 1234abcd-12ab-34cd-56ef-1234567890ab': 'revert-key-policy',
      'kms-grant arn:aws:kms:us-east-1:493859302102:key/1234abcd-12ab-34cd-56ef-1234567890ab': 'revoke-kms-grant',
      'lambda-permission export-orders': 'remove-lambda-permission',
      'lambda-function-url export-orders': 'require-function-url-auth',
      'ram-resource-share arn:aws:ram:us-east-1:493859302102:resource-share/3ab63985-99d9-1cd2-7d24-75e93EXAMPLE':
        'disassociate-resource-share',
      'service-quota-increase ec2/L-417A185B': 'review-quota-request',
      'lambda-function miner': 'review-function',
      'ec2-instances i-00a1b2c3d4e5f6789,i-01a1b2c3d4e5f6789,i-02a1b2c3d4e5f6789,i-03a1b2c3d4e5f6789,i-10a1b2c3d4e5f6789,i-11a1b2c3d4e5f6789':
        'stop-instances',
    });
    // No exposure call is left as a bare "Root called X" finding.
    expect(findings.filter((f) => f.title.startsWith('Root called'))).toEqual([]);
  });

  it('says to whom: the foreign account, AllUsers, the block settings turned off', () => {
    const titles = findings.map((f) => f.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'EBS snapshot snap-0123456789abcdef0 shared (createVolumePermission) to account 111122223333 outside this account in eu-west-1',
        'RDS cluster snapshot prod-aurora-2020-10-31 shared for restore to everyone (all) in eu-west-1',
        'S3 bucket acme-customer-exports policy set to everyone (*) in us-east-1',
        'S3 bucket acme-backups ACL granted to everyone (AllUsers (READ)) in us-east-1',
        'S3 Block Public Access removed for bucket acme-backups in us-east-1',
        'S3 Block Public Access turned off (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets) for the account in us-east-1',
        'KMS key 1234abcd-12ab-34cd-56ef-1234567890ab policy set to account 111122223333 outside this account in us-east-1',
        'Lambda function export-orders resource policy allows lambda:InvokeFunctionUrl to everyone (*) in us-east-1',
        'Lambda function export-orders given a function URL with auth type NONE to everyone (*) in us-east-1',
        'Quota increase requested: Running On-Demand P instances to 512 in us-east-1',
        '6 EC2 instances launched in ap-southeast-2: 4× g5.12xlarge (GPU), 2× c5.24xlarge: GPU instances, the usual sign of cryptomining',
      ]),
    );
    const grant = findings.find((f) => f.exposure?.kind === 'kms-grant')!;
    expect(grant.exposure!.change).toMatchObject({
      grantId: '0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60',
      granteePrincipal: 'arn:aws:iam::111122223333:root',
    });
    const policy = findings.find((f) => f.exposure?.kind === 's3-bucket-policy')!;
    expect(policy.exposure!.previous).toBeNull();
    expect(policy.detail).toContain('CloudTrail did not record the previous policy');
  });

  it('organization mode: an account inside the organization is not foreign; outside it is', () => {
    const inside = classify(written, ['111122223333']);
    const snapshot = inside.find((f) => f.evidence.includes('5b0e6f4a-6f7d-4c1e-9d55-000000000021'))!;
    // Shared inside the organization: no exposure finding, the generic one remains.
    expect(snapshot.exposure).toBeUndefined();
    expect(snapshot.title).toContain('ModifySnapshotAttribute');
    const outside = classify(written, ['444455556666']);
    expect(outside.find((f) => f.evidence.includes('5b0e6f4a-6f7d-4c1e-9d55-000000000021'))!.title).toContain(
      'to account 111122223333 outside the organization',
    );
  });

  it("the published Panther scenario's RunInstances of a p2.8xlarge is called out as GPU compute", () => {
    // Its records all carry eventID "1"; collect-evidence finds tracy_stone's calls by user name.
    const records = panther.map((r, i) => ({ ...r, eventID: `panther-${i}` }));
    const f = classify(records, undefined, (r) => ((r['userIdentity'] as Rec)['type'] === 'Root' ? 'root' : 'user-tracy_stone')).find(
      (x) => x.exposure?.kind === 'ec2-instances',
    )!;
    expect(f).toMatchObject({ category: 'compute-abuse', severity: 'critical', evidence: ['panther-11'] });
    expect(f.detail).toContain('tracy_stone');
    expect(f.title).toMatch(/^1 EC2 instance launched in us-east-1: 1× p2\.8xlarge \(GPU\)/);
  });

  it('a bucket policy set twice in the window keeps the previous one for the undo', () => {
    const put = written.find((r) => r['eventName'] === 'PutBucketPolicy')!;
    const before = structuredClone(put);
    before['eventID'] = 'earlier';
    before['eventTime'] = '2020-11-01T08:40:59Z';
    (before['requestParameters'] as Rec)['bucketPolicy'] = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/app` }, Action: 's3:GetObject', Resource: '*' }],
    };
    const f = classify([before, put]).find((x) => x.evidence.includes(String(put['eventID'])))!;
    expect(f.exposure!.previous).toEqual((before['requestParameters'] as Rec)['bucketPolicy']);
  });

  it('hostile values do not break it: missing fields, wrong types, a policy that is not JSON', () => {
    const odd = written.map((r) => ({ ...r, requestParameters: { policy: '{not json', ipPermissions: 'x', valuesToAdd: 3 } }));
    expect(() => classify(odd)).not.toThrow();
    // Without their parameters only the calls that are the change themselves stand: a block removed, compute started.
    expect(classify(odd).flatMap((f) => (f.exposure ? [f.exposure.kind] : []))).toEqual([
      'ec2-instances',
      's3-public-access-block',
      'service-quota-increase',
      'lambda-function',
    ]);
  });
});
