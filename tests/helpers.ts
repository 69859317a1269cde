import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(__dirname, 'fixtures');
export const CLOUDTRAIL = join(FIXTURES, 'cloudtrail');

export function fixture<T = Record<string, unknown>>(relative: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, relative), 'utf8')) as T;
}

export interface ManifestEntry {
  file: string;
  category: string;
  eventName: string | null;
  userIdentityType: string | null;
  envelope: boolean | string | null;
}

export function manifest(): ManifestEntry[] {
  return fixture<ManifestEntry[]>('cloudtrail/manifest.json');
}

export { toEventBridge as envelope } from '#drill/envelope';
