import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedClock } from '#shared/clock';
import { EvidenceBundle, LocalDirReader, LocalDirWriter } from '#shared/evidence';
import type { Finding } from '#shared/findings';
import { knownSources } from '#shared/known-sources';
import { RateLimiters, virtualTimer } from '#shared/rate-limit';
import { collectEvidence } from '#functions/collect-evidence/collect-evidence';
import { verifyIncident } from '#functions/verify-incident/verify-incident';
import { SimulatedAws } from '#drill/simulated-aws';
import { simAccount, world } from '../helpers-sim';
import { executionInput } from '../helpers-state';

/**
 * Organization mode: an account of the same organization is not foreign to an exposure finding
 * (Organizations ListAccounts, asked by Collect Evidence and Verify Incident from the responder's
 * management account); an account outside it is. When the organization cannot be asked, every
 * other account is foreign and the finding says why. Records written from the documented
 * ModifySnapshotAttribute field shapes.
 */
const MANAGEMENT = '999988887777';
const MEMBER = '444455556666';
const SIBLING = '555566667777';
const OUTSIDE = '210987654321';

const share = (id: string, snapshotId: string, userId: string, at: string) => ({
  eventVersion: '1.08',
  eventID: id,
  eventTime: at,
  eventSource: 'ec2.amazonaws.com',
  eventName: 'ModifySnapshotAttribute',
  awsRegion: 'us-east-1',
  sourceIPAddress: '198.51.100.7',
  userAgent: 'aws-cli/2.15.0',
  userIdentity: { type: 'Root', accountId: MEMBER, arn: `arn:aws:iam::${MEMBER}:root`, principalId: MEMBER },
  requestParameters: { snapshotId, attributeType: 'CREATE_VOLUME_PERMISSION', createVolumePermission: { add: { items: [{ userId }] } } },
  responseElements: { _return: true },
  readOnly: false,
  eventType: 'AwsApiCall',
  recipientAccountId: MEMBER,
});

function setup(responderAccountId: string) {
  const now = Date.parse('2024-03-04T10:30:00Z');
  const timer = virtualTimer(now);
  const member = simAccount(MEMBER, {
    events: {
      'us-east-1': [
        share('share-sibling', 'snap-0000000000000sib', SIBLING, '2024-03-04T10:21:00Z'),
        share('share-outside', 'snap-0000000000000out', OUTSIDE, '2024-03-04T10:22:00Z'),
      ],
    },
  });
  const aws = new SimulatedAws(
    world([simAccount(MANAGEMENT), member, simAccount(SIBLING)], {
      responderAccountId: MANAGEMENT,
      organization: { id: 'o-a1b2c3d4e5', managementAccountId: MANAGEMENT, features: [], delegatedAdmins: [] },
    }),
    timer,
  );
  const dir = mkdtempSync(join(tmpdir(), 'org-exposure-'));
  const clock = fixedClock(new Date(now));
  const responder = aws.targetClients({ accountId: responderAccountId });
  const common = {
    clients: aws.targetClients({ accountId: MEMBER }),
    limiters: new RateLimiters(2, timer),
    timer,
    clock,
    known: knownSources([]),
  };
  const state = executionInput({ accountId: MEMBER, openedAt: '2024-03-04T10:20:00Z' });
  const collect = () =>
    collectEvidence(state, {
      ...common,
      organization: { responder, managementAccountId: MANAGEMENT, member: true },
      bundle: new EvidenceBundle(new LocalDirWriter(join(dir, 'evidence'))),
      baseline: { alternateContacts: {}, expectedOrganizationId: null },
    });
  const verify = () =>
    verifyIncident(state, {
      ...common,
      responder,
      firstCollection: new LocalDirReader(join(dir, 'evidence')),
      bundle: new EvidenceBundle(new LocalDirWriter(join(dir, 'verification'))),
    });
  const exposures = (file: string) => {
    const data = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { findings: Finding[] } | Finding[];
    return (Array.isArray(data) ? data : data.findings).filter((f) => f.category === 'exposure');
  };
  return { aws, member, clock, collect, verify, exposures };
}

describe('organization mode: who is foreign to an exposure', () => {
  it('a share to a sibling member account is not foreign; one to an account outside the organization is', async () => {
    const { aws, collect, exposures } = setup(MANAGEMENT);
    await collect();
    const found = exposures('evidence/findings.json');
    expect(found.map((f) => f.title)).toEqual([
      `EBS snapshot snap-0000000000000out shared (createVolumePermission) to account ${OUTSIDE} outside the organization in us-east-1`,
    ]);
    expect(found[0]!.evidence).toEqual(['share-outside']);
    expect(found[0]!.detail).not.toContain('could not be listed');
    // Asked once, of the management account.
    expect(aws.calls.filter((c) => c.command === 'ListAccountsCommand').map((c) => c.accountId)).toEqual([MANAGEMENT]);
  });

  it('late events are judged the same way by the verification', async () => {
    const { member, clock, collect, verify, exposures } = setup(MANAGEMENT);
    await collect();
    member.events['eu-west-1'] = [];
    member.events['us-east-1']!.push(
      share('late-sibling', 'snap-00000000000late1', SIBLING, '2024-03-04T10:25:00Z'),
      share('late-outside', 'snap-00000000000late2', OUTSIDE, '2024-03-04T10:26:00Z'),
    );
    clock.set('2024-03-04T10:40:00Z');
    await verify();
    expect(exposures('verification/late-findings.json').map((f) => f.evidence)).toEqual([['late-outside']]);
  });

  it('when the organization cannot be asked, every other account is foreign and the finding says why', async () => {
    // The responder's role in an account that is neither the management account nor a delegated administrator.
    const { collect, exposures } = setup(SIBLING);
    await collect();
    const found = exposures('evidence/findings.json');
    expect(found.map((f) => f.evidence[0])).toEqual(['share-sibling', 'share-outside']);
    expect(found[0]!.title).toContain(`to account ${SIBLING} outside this account`);
    expect(found[0]!.detail).toContain(
      "The organization's accounts could not be listed (organizations:ListAccounts was refused: ListAccounts is available only to the management account or a delegated administrator): every account other than this one is counted as foreign",
    );
  });
});
