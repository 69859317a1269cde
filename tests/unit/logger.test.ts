import fc from 'fast-check';
import { createLogger } from '#shared/logger';

/**
 * Every line the functions log goes through the redacting formatter: a secret-shaped key's value
 * never reaches a line, at any depth, in any position; errors keep their name, stack and cause.
 */
function captured(run: (log: ReturnType<typeof createLogger>) => void): string {
  const chunks: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (chunks.push(String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => (chunks.push(String(chunk)), true));
  const info = jest.spyOn(console, 'info').mockImplementation((...a) => void chunks.push(a.map(String).join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...a) => void chunks.push(a.map(String).join(' ')));
  try {
    run(createLogger({ logLevel: 'DEBUG' }));
  } finally {
    out.mockRestore();
    err.mockRestore();
    info.mockRestore();
    error.mockRestore();
  }
  return chunks.join('\n');
}

const SECRET = 'S3cr3t-value-that-must-not-leak';

describe('the functions logger', () => {
  it('redacts secret-shaped keys at any depth and keeps everything else', () => {
    const text = captured((log) =>
      log.info('Approval decided', {
        approvalId: SECRET,
        taskToken: SECRET,
        nested: { sessionToken: SECRET, credentials: { secretAccessKey: SECRET } },
        list: [{ totp: SECRET }],
        incidentId: 'inc-1',
      }),
    );
    expect(text).toContain('Approval decided');
    expect(text).toContain('inc-1');
    expect(text).toContain('[redacted]');
    expect(text).not.toContain(SECRET);
  });

  it('logs errors as objects: name, message, stack and cause survive', () => {
    const text = captured((log) =>
      log.error('Step failed', {
        error: Object.assign(new Error('outer', { cause: new Error('inner cause') }), { name: 'TransientAwsError' }),
      }),
    );
    const line = JSON.parse(text.split('\n').find((l) => l.includes('Step failed'))!) as {
      error: { name: string; message: string; stack: string; cause: { message: string } };
    };
    expect(line.error).toMatchObject({ name: 'TransientAwsError', message: 'outer', cause: { message: 'inner cause' } });
    expect(line.error.stack).toContain('logger.test');
  });

  it('never lets a value under a secret-shaped key reach a line (generated keys and nesting)', () => {
    const secretKey = fc.constantFrom(
      'token',
      'taskToken',
      'TOTP',
      'password',
      'SessionToken',
      'secretAccessKey',
      'approvalId',
      'x-signature',
      'credential',
    );
    fc.assert(
      fc.property(secretKey, fc.array(fc.constantFrom('a', 'b', 'detail'), { maxLength: 4 }), (key, path) => {
        let context: Record<string, unknown> = { [key]: SECRET };
        for (const p of path) context = { [p]: context };
        return !captured((log) => log.warn('context', context)).includes(SECRET);
      }),
      { numRuns: 100, seed: 12 },
    );
  });
});
