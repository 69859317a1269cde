import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDrill } from '#local/drill';
import { listScenarios } from '#local/scenario';
import { SimulatedDynamoDb } from '#local/simulated-dynamodb';
import { SimulatedSns } from '#local/simulated-sns';

/**
 * Every bundled scenario, with every approval given and with none (reminders and escalations),
 * against the simulated SNS and DynamoDB, which refuse what AWS refuses (subject and message
 * limits of Publish, the 400 KB item limit): no notification and no write may be refused.
 */
describe('AWS limits hold in every bundled scenario', () => {
  const refused: { service: string; scenario: string; approve: string; error: string; detail: string }[] = [];
  const subjects = new Set<string>();
  let published = 0;
  let context = { scenario: '', approve: '' };

  beforeAll(async () => {
    const sendSns = SimulatedSns.prototype.send;
    jest.spyOn(SimulatedSns.prototype, 'send').mockImplementation(async function (this: SimulatedSns, command: unknown) {
      const input = (command as { input: { Subject?: string } }).input;
      try {
        const out = await sendSns.call(this, command);
        published += 1;
        subjects.add(input.Subject ?? '');
        return out;
      } catch (error) {
        refused.push({ service: 'sns', ...context, error: `${(error as Error).name}: ${(error as Error).message}`, detail: JSON.stringify(input.Subject) });
        throw error;
      }
    });
    const sendDdb = SimulatedDynamoDb.prototype.send;
    jest.spyOn(SimulatedDynamoDb.prototype, 'send').mockImplementation(async function (this: SimulatedDynamoDb, command: unknown) {
      try {
        return await sendDdb.call(this, command);
      } catch (error) {
        if ((error as Error).name === 'ValidationException') refused.push({ service: 'dynamodb', ...context, error: `${(error as Error).name}: ${(error as Error).message}`, detail: (command as object).constructor.name });
        throw error;
      }
    });
    for (const { name } of listScenarios()) {
      for (const approve of ['all', 'none'] as const) {
        context = { scenario: name, approve };
        await runDrill({ scenario: name, approve, out: mkdtempSync(join(tmpdir(), 'limits-')) });
      }
    }
  }, 240_000);

  afterAll(() => { jest.restoreAllMocks(); if (process.env['LIMITS_DEBUG']) require('node:fs').writeFileSync('/tmp/limits-subjects.txt', [...subjects].join('\n')); });

  it('refuses no Publish and no write', () => {
    expect(published).toBeGreaterThan(0);
    expect(refused).toEqual([]);
  });

  it('publishes only subjects SNS accepts, each incident id kept whole', () => {
    for (const subject of subjects) {
      expect(subject).toMatch(/^[\x21-\x7e][\x20-\x7e]{0,99}$/);
      // Reminders and escalations end with the incident id, even when the task title was cut.
      if (/^\[root-responder\] (Reminder|OVERDUE): /.test(subject)) expect(subject).toMatch(/ \(\d{12}-\d{8}T\d{6}Z-[0-9a-f]{10}\)$/);
    }
  });
});

