import { spawn } from 'node:child_process';
import { assertLoopback, resetMoto, startMoto, stopMoto } from './moto-server';
import { describeMoto } from './moto';

/** The contract layer's own safety: loopback only, and a server never outlives what it serves. */
describe('moto endpoint', () => {
  it('only the loopback interface, over plain HTTP, is accepted', () => {
    expect(assertLoopback('http://127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(assertLoopback('http://[::1]:5000')).toBe('http://[::1]:5000');
    for (const endpoint of [
      'http://10.0.0.1:5000',
      'https://127.0.0.1:5000',
      'http://127.0.0.1.example.com:80',
      'http://localhost.example:80',
      'https://iam.amazonaws.com',
    ]) {
      expect(() => assertLoopback(endpoint)).toThrow(/loopback/);
    }
  });
});

describeMoto('moto_server lifetime', () => {
  const gone = async (endpoint: string) => {
    for (let i = 0; i < 40 && (await resetMoto(endpoint)); i++) await new Promise((resolve) => setTimeout(resolve, 250));
    return !(await resetMoto(endpoint));
  };
  const groupAlive = (pid: number) => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const groupEnds = async (pid: number) => {
    for (let i = 0; i < 20 && groupAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 250));
    return !groupAlive(pid);
  };

  it('ends with the process it watches (a killed test run leaves no server behind)', async () => {
    const watched = spawn('sleep', ['1']);
    const server = await startMoto(watched.pid!);
    expect(await resetMoto(server.endpoint)).toBe(true);
    expect(await gone(server.endpoint)).toBe(true);
    expect(await groupEnds(server.pid)).toBe(true);
    stopMoto(server); // its log folder
  }, 20_000);

  it('stopMoto ends moto_server and its watchdog', async () => {
    const server = await startMoto(process.pid);
    stopMoto(server);
    expect(await gone(server.endpoint)).toBe(true);
    expect(await groupEnds(server.pid)).toBe(true);
  }, 20_000);
});
