import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '#shared/errors';
import { parseRuntimeConfig, parseStageConfig } from '#shared/config';
import { knownSources } from '#shared/known-sources';
import { PROJECT_ROOT } from '#drill/deployment';
import { DRILL_ENV } from '#drill/drill';

const CONFIG_DIR = join(PROJECT_ROOT, 'config');

describe('stage configuration', () => {
  it.each(readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.json')))('config/%s is valid', (file) => {
    const config = parseStageConfig(JSON.parse(readFileSync(join(CONFIG_DIR, file), 'utf8')), file);
    expect(config.responders.length).toBeGreaterThan(0);
    expect(() => knownSources(config.knownSourceCidrs)).not.toThrow();
  });

  it('names every bad field', () => {
    const bad = {
      mode: 'everywhere',
      responders: [{ name: 'x', email: 'not-an-email' }],
      objectLockMode: 'GOVERNANCE',
      knownSourceCidrs: ['10.0.0.0'],
    };
    try {
      parseStageConfig(bad, 'config/bad.json');
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const issues = (error as ConfigError).issues.join('\n');
      expect(issues).toMatch(/^mode: /m);
      expect(issues).toMatch(/^responders\.0\.email: /m);
      expect(issues).toMatch(/^knownSourceCidrs\.0: /m);
      expect((error as Error).message).toMatch(/^config\/bad\.json: /);
    }
  });

  it('refuses unknown fields (a typo must not silently fall back to a default)', () => {
    const base = JSON.parse(readFileSync(join(CONFIG_DIR, 'example.json'), 'utf8')) as Record<string, unknown>;
    expect(() => parseStageConfig({ ...base, maxReminder: 3 }, 'x')).toThrow(/Unrecognized key/);
  });

  it('applies documented defaults', () => {
    const config = parseStageConfig(
      { mode: 'standalone', responders: [{ name: 'a', email: 'a@example.com' }], objectLockMode: 'COMPLIANCE' },
      'x',
    );
    expect(config).toMatchObject({
      approvalExpiryHours: 24,
      reminderIntervalMinutes: 60,
      maxReminders: 3,
      evidenceRetentionDays: 365,
      knownSourceCidrs: [],
      expectedOrganizationId: null,
    });
  });
});

describe('runtime configuration (the Lambda environment)', () => {
  it('parses the environment the drill sets (the production settings of config/example.json)', () => {
    const config = parseRuntimeConfig({ ...DRILL_ENV, KNOWN_SOURCE_CIDRS: '203.0.113.0/24, 2001:db8::/32' });
    expect(config).toMatchObject({
      MAX_REMINDERS: 3,
      REMINDER_INTERVAL_SECONDS: 3600,
      APPROVAL_EXPIRY_HOURS: 24,
      KNOWN_SOURCE_CIDRS: ['203.0.113.0/24', '2001:db8::/32'],
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names each missing or malformed variable', () => {
    const { INCIDENTS_TABLE: _missing, ...rest } = DRILL_ENV;
    try {
      parseRuntimeConfig({ ...rest, STATE_MACHINE_ARN: 'nope' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues.map((i) => i.split(':')[0]).sort()).toEqual(['INCIDENTS_TABLE', 'STATE_MACHINE_ARN']);
    }
  });

  it('names the baseline object by bucket and a content-addressed key, and refuses another key shape', () => {
    const config = parseRuntimeConfig(DRILL_ENV);
    expect(config.BASELINE_OBJECT).toMatch(/^baseline\/[0-9a-f]{64}\.json$/);
    expect(() => parseRuntimeConfig({ ...DRILL_ENV, BASELINE_OBJECT: 'baseline/latest.json' })).toThrow(
      /BASELINE_OBJECT: baseline\/<64 hex digits>\.json/,
    );
    const { BASELINE_BUCKET: _, ...withoutBucket } = DRILL_ENV;
    expect(() => parseRuntimeConfig(withoutBucket)).toThrow(/BASELINE_BUCKET/);
  });
  it('rejects a known-source entry that is not a CIDR', () => {
    expect(() => knownSources(['203.0.113.0/33'])).toThrow(ConfigError);
    expect(() => knownSources(['example.com/24'])).toThrow(ConfigError);
    const known = knownSources(['203.0.113.0/24', '2001:db8::/32']);
    expect([
      known.contains('203.0.113.9'),
      known.contains('203.0.114.9'),
      known.contains('2001:db8::1'),
      known.contains('AWS Internal'),
      known.contains(undefined),
    ]).toEqual([true, false, true, false, false]);
  });
});
