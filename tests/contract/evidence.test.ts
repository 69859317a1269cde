import { expect } from '@jest/globals';
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { fixedClock } from '#shared/clock';
import type { JsonObject } from '#shared/cloudtrail';
import { EvidenceBundle, INCIDENT_FILES, incidentPrefix, type ManifestEntry, readJson, S3Reader, S3Writer, sha256 } from '#shared/evidence';
import { knownSources } from '#shared/known-sources';
import { StoredFindingSchema, StoredFindingsSchema, StoredSignInSchema } from '#shared/contracts/incident-files';
import { VerifyIncidentInputSchema } from '#shared/contracts/verification';
import { SharedMeter } from '#shared/shared-meter';
import { collectEvidence } from '#functions/collect-evidence/collect-evidence';
import { verifyIncident } from '#functions/verify-incident/verify-incident';
import { rootEvents } from '../helpers-sim';
import { ACCOUNT, describeMoto, EVIDENCE_BUCKET, itKeepsTheManifestHonest, MotoAws, useMoto, watchSent } from './moto';
import { OPENED_AT, workflowState } from './states';

/**
 * Evidence on moto's S3: the bundle written with S3Writer into a bucket made as serverless.yml
 * makes the evidence bucket (Object Lock, default retention: GOVERNANCE in test stages), read back
 * with S3Reader and re-hashed against its manifest; a whole evidence collection (CloudTrail review
 * from the LookupEvents stub, the shared CloudTrail meter in moto's DynamoDB) and the verification
 * that reads the first collection's index back from S3. The collection's output carries counts and
 * keys: its findings and sign-ins are read back from the bundle, as Assess Incident and the report do.
 */
describeMoto('contract: evidence in an Object Lock bucket', () => {
  const moto = useMoto();
  const BUCKET = EVIDENCE_BUCKET;
  const clock = fixedClock('2024-03-04T10:20:00Z');

  beforeEach(async () => {
    await moto.reset();
    await moto.aws.evidenceBucket(BUCKET);
  });

  async function readBack(prefix: string): Promise<{ manifest: { files: ManifestEntry[] }; mismatches: string[] }> {
    const reader = new S3Reader(moto.aws.s3(), BUCKET, prefix);
    const manifest = JSON.parse((await reader.read('manifest.json')).toString('utf8')) as { files: ManifestEntry[] };
    const mismatches: string[] = [];
    for (const entry of manifest.files) {
      const body = await reader.read(entry.path);
      if (body.length !== entry.size || sha256(body) !== entry.sha256) mismatches.push(entry.path);
    }
    return { manifest, mismatches };
  }

  it("a bundle written with S3Writer reads back byte for byte with S3Reader, each object under the bucket's retention", async () => {
    const bundle = new EvidenceBundle(new S3Writer(moto.aws.s3(), BUCKET, 'incidents/i-1/evidence/'));
    await bundle.put('account/trails.json', [{ name: 'main', logging: false }]);
    await bundle.put('cloudtrail/us-east-1/root/page-0001.json', rootEvents(3, 'us-east-1'));
    await bundle.put('report.md', '# Incident\n\nRoot signed in. Ünïcödé survives.\n');
    const ref = await bundle.finish();

    expect(ref).toMatchObject({ location: `s3://${BUCKET}/incidents/i-1/evidence/`, files: 3 });
    const { manifest, mismatches } = await readBack('incidents/i-1/evidence/');
    expect(manifest.files.map((f) => f.path)).toEqual(['account/trails.json', 'cloudtrail/us-east-1/root/page-0001.json', 'report.md']);
    expect(mismatches).toEqual([]);
    const s3 = moto.aws.s3Admin();
    // (HeadObject, not GetObjectRetention: moto 5.2.1 answers the latter with XML the SDK cannot parse.)
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'incidents/i-1/evidence/report.md', ChecksumMode: 'ENABLED' }));
    expect(head).toMatchObject({
      ContentType: 'text/markdown',
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: expect.any(Date),
      ChecksumSHA256: expect.any(String),
    });
    // The manifest's version id, as S3 answered the PutObject: the one a GetObject by version returns (the emails carry it).
    expect(ref.manifestVersionId).toEqual(expect.any(String));
    const version = await s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: 'incidents/i-1/evidence/manifest.json', VersionId: ref.manifestVersionId! }),
    );
    expect(version.VersionId).toBe(ref.manifestVersionId);
  });

  it('a locked version cannot be deleted; a missing bucket is an EvidenceWriteError', async () => {
    const bundle = new EvidenceBundle(new S3Writer(moto.aws.s3(), BUCKET, 'incidents/i-2/evidence/'));
    await bundle.put('sign-ins.json', []);
    const s3 = moto.aws.s3Admin();
    const { VersionId } = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'incidents/i-2/evidence/sign-ins.json' }));
    await expect(
      s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'incidents/i-2/evidence/sign-ins.json', VersionId })),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
    const elsewhere = new EvidenceBundle(new S3Writer(moto.aws.s3(), 'no-such-bucket', 'x/'));
    await expect(elsewhere.put('a.json', {})).rejects.toMatchObject({
      name: 'EvidenceWriteError',
      message: expect.stringContaining('NoSuchBucket'),
    });
  });

  // A DeleteObject without a version id would put a delete marker over the evidence (Object Lock
  // keeps the locked version, but a read by key finds nothing). In AWS the evidence bucket's policy
  // denies s3:DeleteObject to every principal (tests/unit/template.test.ts holds the packaged
  // policy); moto does not evaluate bucket policies, so here the marker is placed, and what is left
  // to check is that the read then fails loudly, as a typed error naming NoSuchKey, never as empty.
  it('evidence behind a delete marker: the read fails with EvidenceReadError (the bucket policy prevents it in AWS)', async () => {
    const bundle = new EvidenceBundle(new S3Writer(moto.aws.s3(), BUCKET, 'incidents/i-3/evidence/'));
    await bundle.put('cloudtrail-index.json', { eventIds: ['a'] });
    const deleted = await moto.aws
      .s3Admin()
      .send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'incidents/i-3/evidence/cloudtrail-index.json' }));
    expect(deleted.DeleteMarker).toBe(true);
    await expect(new S3Reader(moto.aws.s3(), BUCKET, 'incidents/i-3/evidence/').read('cloudtrail-index.json')).rejects.toMatchObject({
      name: 'EvidenceReadError',
      message: expect.stringContaining('NoSuchKey'),
    });
  });

  it('collect evidence, then verify: the index read back from S3, late events found, the shared CloudTrail meter in DynamoDB', async () => {
    const { incidents } = await moto.aws.createTables();
    const late: JsonObject = {
      ...rootEvents(1, 'us-east-1', Date.parse('2024-03-04T10:15:00Z'))[0]!,
      eventID: 'late-1',
      eventName: 'StopLogging',
      eventSource: 'cloudtrail.amazonaws.com',
    };
    const signIn: JsonObject = {
      ...rootEvents(1, 'us-east-1', Date.parse(OPENED_AT))[0]!,
      eventID: 'signin-1',
      eventName: 'ConsoleLogin',
      eventSource: 'signin.amazonaws.com',
      eventType: 'AwsConsoleSignIn',
      responseElements: { ConsoleLogin: 'Success' },
      additionalEventData: { MFAUsed: 'No' },
    };
    const createKey: JsonObject = {
      ...rootEvents(1, 'us-east-1', Date.parse('2024-03-04T10:02:00Z'))[0]!,
      eventID: 'key-1',
      eventName: 'CreateAccessKey',
      eventSource: 'iam.amazonaws.com',
      readOnly: false,
      requestParameters: { userName: 'backdoor' },
      responseElements: { accessKey: { accessKeyId: 'AKIABACKDOOR00000001', status: 'Active', userName: 'backdoor' } },
    };
    const usedKey: JsonObject = {
      ...rootEvents(1, 'eu-west-1', Date.parse('2024-03-04T10:04:00Z'))[0]!,
      eventID: 'used-1',
      userIdentity: {
        type: 'IAMUser',
        userName: 'backdoor',
        accessKeyId: 'AKIABACKDOOR00000001',
        arn: `arn:aws:iam::${ACCOUNT}:user/backdoor`,
        accountId: ACCOUNT,
      },
    };
    const stubs = moto.aws.stub(ACCOUNT, {
      regions: ['us-east-1', 'eu-west-1'],
      // 60 root events of context (two LookupEvents pages) before the window, the window's own.
      events: {
        'us-east-1': [...rootEvents(60, 'us-east-1', Date.parse('2024-03-03T10:00:00Z')), signIn, createKey],
        'eu-west-1': [...rootEvents(3, 'eu-west-1', Date.parse('2024-03-04T10:03:00Z')), usedKey],
      },
    });
    const timer = MotoAws.virtualTimer();
    const meter = new SharedMeter(moto.aws.documentClient(), incidents, 2, timer);
    const state = workflowState(ACCOUNT);
    const sentNow = watchSent();

    const collected = await collectEvidence(state, {
      clients: moto.aws.target(),
      bundle: new EvidenceBundle(new S3Writer(moto.aws.s3(), BUCKET, `incidents/${state.incidentId}/evidence/`)),
      limiters: meter,
      timer,
      clock,
      known: knownSources([]),
      baseline: { alternateContacts: {}, expectedOrganizationId: null },
    });

    expect(collected.regions).toEqual(['us-east-1', 'eu-west-1']);
    // The output carries counts and keys, never the events or the findings: those are read back from
    // the bundle in S3 as Assess Incident and Write Incident Report read them.
    expect(collected.keys).toEqual({ findings: INCIDENT_FILES.evidence.findings, signIns: INCIDENT_FILES.evidence.signIns });
    const evidenceFolder = new S3Reader(moto.aws.s3Admin(), BUCKET, incidentPrefix(state.incidentId, 'evidence'));
    const signIns = await readJson(evidenceFolder, collected.keys.signIns, z.array(StoredSignInSchema));
    const { findings, remediations } = await readJson(evidenceFolder, collected.keys.findings, StoredFindingsSchema);
    expect(signIns.map((s) => s.eventId)).toEqual(['signin-1']);
    expect(findings.map((f) => f.id)).toEqual(expect.arrayContaining(['no-trail']));
    expect(collected.counts).toEqual({ findings: findings.length, remediations: remediations.length, signIns: signIns.length });
    expect(JSON.stringify(collected)).not.toMatch(/signin-1|key-1|used-1/);
    // Every page followed: 60 context events in two pages in us-east-1; the backdoor key's use found in eu-west-1.
    expect(collected.review.queries.find((q) => q.region === 'us-east-1' && q.query === 'root')).toMatchObject({ pages: 2, events: 62 });
    expect(sentNow('LookupEventsCommand').map((s) => (s.input['LookupAttributes'] as { AttributeKey: string }[])[0]!.AttributeKey)).toEqual(
      expect.arrayContaining(['Username', 'EventSource', 'AccessKeyId']),
    );
    expect(collected.review.queries.find((q) => q.region === 'eu-west-1' && q.query === 'access-key-AKIABACKDOOR00000001')).toMatchObject({
      events: 1,
    });
    // Never more than 2 calls/s per region on the meter's (virtual) clock: the meter slept between calls.
    expect(timer.slept).toBeGreaterThan(0);
    const { manifest, mismatches } = await readBack(`incidents/${state.incidentId}/evidence/`);
    expect(mismatches).toEqual([]);
    expect(manifest.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['account/trails.json', 'cloudtrail-index.json', 'cloudtrail/us-east-1/root/page-0002.json', 'findings.json']),
    );
    expect(collected.evidence.files).toBe(manifest.files.length);

    stubs.events['us-east-1']!.push(late);
    clock.set('2024-03-04T10:40:00Z');
    // Verify Incident gets only the incident's ids (the ASL's Parameters pick them).
    const verified = await verifyIncident(VerifyIncidentInputSchema.parse(state), {
      clients: moto.aws.target(),
      firstCollection: new S3Reader(moto.aws.s3(), BUCKET, `incidents/${state.incidentId}/evidence/`),
      bundle: new EvidenceBundle(new S3Writer(moto.aws.s3(), BUCKET, `incidents/${state.incidentId}/verification/`)),
      limiters: meter,
      timer,
      clock,
      known: knownSources([]),
    });
    expect(verified).toMatchObject({ status: 'done', lateEvents: 1, keys: { lateFindings: INCIDENT_FILES.verification.lateFindings } });
    const lateFindings = await readJson(
      new S3Reader(moto.aws.s3Admin(), BUCKET, incidentPrefix(state.incidentId, 'verification')),
      verified.keys!.lateFindings,
      z.array(StoredFindingSchema),
    );
    expect(lateFindings.length).toBe(verified.lateFindings);
    expect(lateFindings.flatMap((f) => f.evidence)).toContain('late-1');
    expect((await readBack(`incidents/${state.incidentId}/verification/`)).mismatches).toEqual([]);
  });

  itKeepsTheManifestHonest(__filename);
});
