// `npm test`'s checks before jest: typecheck, Prettier check, ESLint and `serverless package`, run at
// the same time (none reads what another writes). tsc, Prettier and ESLint each keep about one core
// busy, so one after another they leave the second core of a 2-core machine idle; side by side they
// use both. Each one's output is printed whole when it ends, under its name; the exit code is 1 when
// any of them failed, and every failure is shown.
// `node tests/run-checks.cjs typecheck lint` runs only those npm scripts.
const { spawn } = require('node:child_process');

const phases = process.argv.length > 2 ? process.argv.slice(2) : ['typecheck', 'format:check', 'lint', 'package'];
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

void Promise.all(phases.map(run)).then((results) => {
  const failed = phases.filter((_, i) => !results[i]);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`\nchecks: ${failed.length ? `FAILED: ${failed.join(', ')}` : `${phases.join(', ')} passed`} (${seconds} s)\n`);
  process.exitCode = failed.length ? 1 : 0;
});
