import { runDrill, DRILL_ENV, type DrillExecution } from '#local/drill';
import type { Handler } from '#local/deployment';

/** The whole state machine, run locally with every Task bound to its deployed handler. */
interface Output {
  humanTasks?: { taskId: string; status: string; decision?: { decidedBy: string } }[];
  report?: { Payload: { incidentStatus: string; report: { status: string; humanTasks: { status: string }[]; actions: { action: string; status: string }[]; openItems: string[] } } };
  failureReport?: { Payload: { ran: string[]; notRun: string[] } };
  containAndCollect?: { Payload: { containment: { status: string }; evidence: { status: string; error?: { Error: string } } } };
}

const top = (e: DrillExecution) => e.events.filter((x) => x.type === 'StateEntered' && x.index === undefined && x.state).map((x) => x.state);

describe('drill: unknown-ip-no-mfa', () => {
  it('with every approval given, runs the whole state machine to its end', async () => {
    const result = await runDrill({ approve: 'all' });

    expect(result.intake.map((i) => i.outcome)).toEqual(['ignored', 'ignored', 'ignored', 'opened', 'attached', 'attached', 'attached', 'attached', 'attached', 'attached', 'attached', 'ignored']);
    expect(result.executions).toHaveLength(1);
    const [execution] = result.executions;
    expect(execution!.status).toBe('SUCCEEDED');
    expect(top(execution!)).toEqual([
      'Snapshot Root Credentials',
      'Contain And Collect Evidence',
      'Contain Root Credentials',
      'Collect Evidence',
      'Assess Incident',
      'Notify Responders',
      'Confirmation Needed?',
      'Run Human Tasks',
      'Verify Incident',
      'Write Incident Report',
      'Response Finished',
    ]);
    const output = execution!.output as Output;
    expect(output.humanTasks).toHaveLength(7);
    expect(output.humanTasks!.every((t) => t.status === 'done' && t.decision?.decidedBy === 'drill:simulated-responder')).toBe(true);
    expect(result.approvals).toHaveLength(7);
    // Nothing pretends: unbuilt steps say so, and the incident stays open.
    const report = output.report!.Payload.report;
    expect(report.status).toBe('open');
    expect(report.actions.map((a) => [a.action, a.status])).toEqual([
      ['snapshot-root-credentials', 'not-implemented'],
      ['delete-root-access-key', 'not-implemented'],
      ['collect-evidence', 'not-implemented'],
      ['verify-incident', 'not-implemented'],
    ]);
    expect(report.openItems.some((o) => /Delete the root access keys: done, not verified/.test(o))).toBe(true);
  });

  it('sends no task token in any message', async () => {
    const result = await runDrill({ approve: 'all' });
    const mail = JSON.stringify(result.outbox);
    expect(mail).not.toContain('drill-token-');
    expect(result.outbox.filter((m) => m.topicArn === DRILL_ENV.RESPONDERS_TOPIC_ARN && /\/approvals\/[A-Za-z0-9_-]{43}/.test(m.body))).toHaveLength(7);
    expect(result.outbox.filter((m) => m.topicArn === DRILL_ENV.ALERT_TOPIC_ARN).map((m) => m.subject)).toEqual(['[root-responder] CRITICAL: root activity in account 493859302102']);
  });

  it('with nobody answering, reminds once, escalates, and ends with every task overdue', async () => {
    const result = await runDrill({ approve: 'none' });
    const output = result.executions[0]!.output as Output;
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    expect(output.humanTasks!.map((t) => t.status)).toEqual(Array(7).fill('overdue'));
    expect(result.outbox.filter((m) => m.topicArn === DRILL_ENV.ESCALATION_TOPIC_ARN)).toHaveLength(7);
    expect(result.outbox.filter((m) => m.subject.includes('Reminder:'))).toHaveLength(7);
    expect(output.report!.Payload.report.status).toBe('open');
  });

  it('a failure while collecting evidence does not stop containment', async () => {
    const result = await runDrill({
      approve: 'all',
      handlerFor: (fn, deployed): Handler =>
        fn === 'collectEvidence'
          ? async () => {
              throw Object.assign(new Error('CloudTrail unreachable'), { name: 'EvidenceCollectionError' });
            }
          : deployed,
    });
    const output = result.executions[0]!.output as Output;
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    expect(output.containAndCollect!.Payload.containment.status).toBe('not-implemented');
    expect(output.containAndCollect!.Payload.evidence).toMatchObject({ status: 'failed', error: { Error: 'EvidenceCollectionError' } });
    expect(output.report!.Payload.report.actions.find((a) => a.action === 'collect-evidence')!.status).toBe('failed');
  });

  it('a step that fails for good is reported to the responders and the execution fails', async () => {
    const result = await runDrill({
      approve: 'all',
      handlerFor: (fn, deployed): Handler =>
        fn === 'assessIncident'
          ? async () => {
              throw Object.assign(new Error('bad plan'), { name: 'InvalidStepInputError' });
            }
          : deployed,
    });
    const [execution] = result.executions;
    expect(execution!.status).toBe('FAILED');
    expect(execution!.error).toBe('ResponseFailed');
    expect(top(execution!).slice(-3)).toEqual(['Assess Incident', 'Report Failure', 'Response Failed']);
    const failure = result.outbox.find((m) => m.subject.startsWith('[root-responder] FAILED'));
    expect(failure?.body).toContain('InvalidStepInputError');
    expect(failure?.body).toContain('Did not run: Assess Incident, Notify Responders');
  });

  it('retries a transient failure and then goes on', async () => {
    let calls = 0;
    const result = await runDrill({
      approve: 'all',
      handlerFor: (fn, deployed): Handler =>
        fn === 'notifyResponders'
          ? async (event) => {
              calls += 1;
              if (calls === 1) throw Object.assign(new Error('throttled'), { name: 'TransientAwsError' });
              return deployed(event);
            }
          : deployed,
    });
    expect(calls).toBe(2);
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    expect(result.executions[0]!.events.filter((e) => e.type === 'StateRetried').map((e) => e.state)).toEqual(['Notify Responders']);
  });
});

describe('drill: known-ip-with-mfa', () => {
  it('asks "was this you?" first; a confirmation closes the incident as expected use and skips the tasks', async () => {
    const result = await runDrill({ scenario: 'known-ip-with-mfa', approve: 'all' });
    const [execution] = result.executions;
    expect(execution!.status).toBe('SUCCEEDED');
    expect(top(execution!)).toEqual(expect.arrayContaining(['Ask Whether The Sign-In Was Expected', 'Was It You?', 'Write Incident Report']));
    expect(top(execution!)).not.toContain('Run Human Tasks');
    expect((execution!.output as Output).report!.Payload.incidentStatus).toBe('expected-use');
  });

  it('with no answer, runs the full response', async () => {
    const result = await runDrill({ scenario: 'known-ip-with-mfa', approve: 'none' });
    expect(top(result.executions[0]!)).toEqual(expect.arrayContaining(['Was It You?', 'Run Human Tasks']));
  });
});
