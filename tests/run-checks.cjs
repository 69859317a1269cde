// `npm test`'s checks: typecheck, Prettier check, ESLint and `serverless package`, run at the same
// time (none reads what another writes). tsc, Prettier and ESLint each keep about one core busy, so
// one after another they leave the second core of a 2-core machine idle; side by side they use both.
// Each one's output is printed whole when it ends, under its name.
//
// `--then-jest [jest arguments]` (what `npm test` runs) also starts jest as soon as the package is
// written (the tests read .serverless/), while the other checks finish, with jest's output as it
// comes. A failed package means no jest. The exit code is 1 when anything failed, and the last line
// names every failure.
const { spawn } = require('node:child_process');

const args = process.argv.slice(2);
const withJest = args[0] === '--then-jest';
const jestArgs = withJest ? args.slice(1) : [];
const phases = withJest || args.length === 0 ? ['typecheck', 'format:check', 'lint', 'package'] : args;
const started = Date.now();

function run(name) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn('npm', ['run', '--silent', name], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    child.on('error', (error) => out.push(Buffer.from(`${error.message}\n`)));
    child.on('close', (code, signal) => {
      const ok = code === 0;
      const seconds = ((Date.now() - t0) / 1000).toFixed(1);
      process.stdout.write(`\n== ${name}: ${ok ? 'passed' : `FAILED (${signal ?? `exit ${code}`})`} in ${seconds} s\n`);
      process.stdout.write(Buffer.concat(out));
      resolve(ok);
    });
  });
}

function jest() {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [require.resolve('jest/bin/jest'), ...jestArgs], { stdio: 'inherit' });
    child.on('error', (error) => {
      process.stderr.write(`jest did not start: ${error.message}\n`);
      resolve(false);
    });
    child.on('close', (code) => resolve(code === 0));
  });
}

const failed = [];
const runs = phases.map(async (name) => {
  if (!(await run(name))) failed.push(name);
  else if (name === 'package' && withJest && !(await jest())) failed.push('jest');
});
void Promise.all(runs).then(() => {
  if (withJest && failed.includes('package')) failed.push('jest (not run: no package)');
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const all = withJest ? [...phases, 'jest'] : phases;
  const title = withJest ? 'npm test' : 'checks';
  process.stdout.write(`\n${title}: ${failed.length ? `FAILED: ${failed.join(', ')}` : `${all.join(', ')} passed`} (${seconds} s)\n`);
  process.exitCode = failed.length ? 1 : 0;
});
