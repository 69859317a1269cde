import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { z } from 'zod';
import { EvidenceReadError, EvidenceWriteError, storeCall, TransientAwsError } from './errors';

/**
 * The evidence bundle: every raw response and finding as a file, plus `manifest.json` =
 * `{"files": [{"path", "size", "sha256"}]}` (paths relative to the bundle), whose own SHA-256 goes
 * in the report. Deployed: S3 under `incidents/<id>/evidence/` in the Object Lock bucket (nobody,
 * root included, can delete it within the retention). Drill: a local folder. Files are written as
 * they are produced, so no step holds the whole bundle in memory or in a state payload.
 */
export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

export interface EvidenceRef {
  location: string;
  manifestSha256: string;
  /** The S3 version id of manifest.json (null where the store keeps no versions): the digest names one version. */
  manifestVersionId: string | null;
  files: number;
}

/**
 * Where an incident's objects live in the evidence bucket (the drill maps these to folders):
 * `incidents/<id>/` the report, `evidence/` the first collection, `assessment/` the findings and the
 * plan as assessed, `verification/` what arrived late. The workflow state carries ids, counts and
 * these keys; the steps that need the bulk read it back from here (Step Functions: 256 KiB a state).
 */
export type IncidentFolder = 'evidence' | 'assessment' | 'verification';

export function incidentPrefix(incidentId: string, folder?: IncidentFolder): string {
  return `incidents/${incidentId}/${folder ? `${folder}/` : ''}`;
}

/** The files steps read back, by folder. */
export const INCIDENT_FILES = {
  evidence: { findings: 'findings.json', signIns: 'sign-ins.json', index: 'cloudtrail-index.json' },
  assessment: { findings: 'findings.json', plan: 'plan.json' },
  verification: { lateFindings: 'late-findings.json', responderActivity: 'responder-activity.json' },
} as const;

export interface ObjectWriter {
  /** Where these objects live, for the report (s3://bucket/prefix/ or a folder). */
  readonly location: string;
  /** Resolves to the version id the store gave the object (the evidence bucket is versioned), or nothing where it keeps none. */
  write(path: string, body: Buffer): Promise<string | undefined | void>;
}

export const evidencePermissions = ['s3:PutObject'] as const;
export const evidenceReadPermissions = ['s3:GetObject'] as const;

/** Reads back what an earlier step wrote (the verification compares against the first collection). */
export interface ObjectReader {
  read(path: string): Promise<Buffer>;
}

/**
 * Read back a JSON object an earlier step wrote, checked against its schema. Throttling and 5xx stay
 * TransientAwsError (the state machine retries); anything else is an EvidenceReadError.
 */
export async function readJson<S extends z.ZodType>(reader: ObjectReader, path: string, schema: S): Promise<z.infer<S>> {
  let body: Buffer;
  try {
    body = await reader.read(path);
  } catch (error) {
    if (error instanceof TransientAwsError || error instanceof EvidenceReadError) throw error;
    throw new EvidenceReadError(`Reading ${path} failed: ${(error as Error).name}: ${(error as Error).message}`.slice(0, 400), {
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new EvidenceReadError(`${path} is not JSON`, { cause: error });
  }
  const checked = schema.safeParse(parsed);
  if (!checked.success)
    throw new EvidenceReadError(
      `${path} does not match its contract: ${checked.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')}`,
    );
  return checked.data;
}

export function sha256(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** A path inside the bundle; one outside it is refused as a failed write, or as a failed read where one reads. */
function safePath(path: string, Refused: typeof EvidenceWriteError | typeof EvidenceReadError = EvidenceWriteError): string {
  const clean = normalize(path).split(sep).join('/');
  if (clean.startsWith('..') || clean.startsWith('/') || clean.includes('/../'))
    throw new Refused(`Refusing evidence path outside the bundle: ${path}`);
  return clean;
}

export class EvidenceBundle {
  private readonly entries = new Map<string, ManifestEntry>();

  constructor(private readonly writer: ObjectWriter) {}

  get location(): string {
    return this.writer.location;
  }

  async put(path: string, content: unknown): Promise<ManifestEntry> {
    const clean = safePath(path);
    if (clean === 'manifest.json') throw new EvidenceWriteError('manifest.json is written by finish()');
    const body = Buffer.from(typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
    await this.writer.write(clean, body);
    const entry = { path: clean, size: body.length, sha256: sha256(body) };
    this.entries.set(clean, entry);
    return entry;
  }

  /** Write manifest.json and return the reference the report carries. */
  async finish(): Promise<EvidenceRef> {
    const files = [...this.entries.values()].sort((a, b) => a.path.localeCompare(b.path));
    const body = Buffer.from(`${JSON.stringify({ files }, null, 2)}\n`);
    const versionId = await this.writer.write('manifest.json', body);
    return { location: this.writer.location, manifestSha256: sha256(body), manifestVersionId: versionId || null, files: files.length };
  }
}

export class LocalDirWriter implements ObjectWriter {
  constructor(readonly location: string) {}

  async write(path: string, body: Buffer): Promise<void> {
    const file = join(this.location, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, body);
  }
}

export class S3Writer implements ObjectWriter {
  readonly location: string;

  constructor(
    private readonly s3: Pick<S3Client, 'send'>,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {
    this.location = `s3://${bucket}/${prefix}`;
  }

  async write(path: string, body: Buffer): Promise<string | undefined> {
    const out = await storeCall(
      's3:PutObject',
      // A checksum is required by Object Lock buckets; SHA-256 also lets S3 verify the upload.
      () =>
        this.s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: `${this.prefix}${path}`,
            Body: body,
            ChecksumAlgorithm: 'SHA256',
            ContentType: path.endsWith('.json') ? 'application/json' : path.endsWith('.md') ? 'text/markdown' : 'text/html',
          }),
        ),
      EvidenceWriteError,
      `Writing ${path} to ${this.location} failed`,
    );
    return out.VersionId;
  }
}

/** Re-hash every file of a local bundle against its manifest. Returns what does not match. */
export async function verifyLocalBundle(
  dir: string,
): Promise<{ ok: boolean; mismatches: { path: string; problem: string }[]; manifestSha256: string }> {
  const manifestBody = await readFile(join(dir, 'manifest.json'));
  const manifest = JSON.parse(manifestBody.toString('utf8')) as { files: ManifestEntry[] };
  const mismatches: { path: string; problem: string }[] = [];
  for (const entry of manifest.files) {
    let body: Buffer;
    try {
      body = await readFile(join(dir, safePath(entry.path, EvidenceReadError)));
    } catch {
      mismatches.push({ path: entry.path, problem: 'missing' });
      continue;
    }
    if (body.length !== entry.size) mismatches.push({ path: entry.path, problem: `size ${body.length}, manifest says ${entry.size}` });
    else if (sha256(body) !== entry.sha256) mismatches.push({ path: entry.path, problem: 'sha256 differs' });
  }
  return { ok: mismatches.length === 0, mismatches, manifestSha256: sha256(manifestBody) };
}

export class LocalDirReader implements ObjectReader {
  constructor(private readonly dir: string) {}
  read(path: string): Promise<Buffer> {
    return readFile(join(this.dir, safePath(path, EvidenceReadError)));
  }
}

export class S3Reader implements ObjectReader {
  constructor(
    private readonly s3: Pick<S3Client, 'send'>,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  read(path: string): Promise<Buffer> {
    return storeCall(
      's3:GetObject',
      async () => {
        const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}${path}` }));
        return Buffer.from(await out.Body!.transformToByteArray());
      },
      EvidenceReadError,
      `Reading ${path} from s3://${this.bucket}/${this.prefix} failed`,
    );
  }
}
