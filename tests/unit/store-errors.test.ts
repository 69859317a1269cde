import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalDirReader, readJson } from '#shared/evidence';
import { z } from 'zod';

describe('evidence reads fail as reads', () => {
  it('a path outside the bundle, read back, is refused as an EvidenceReadError (not a write error)', async () => {
    const reader = new LocalDirReader(mkdtempSync(join(tmpdir(), 'evidence-')));
    expect(() => reader.read('../outside.json')).toThrow(expect.objectContaining({ name: 'EvidenceReadError', message: expect.stringContaining('outside the bundle') }));
    await expect(readJson(reader, '../outside.json', z.unknown())).rejects.toMatchObject({ name: 'EvidenceReadError', message: expect.stringContaining('outside the bundle') });
  });
});
