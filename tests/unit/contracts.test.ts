import { expect } from '@jest/globals';
import { StateMachine } from 'aws-local-stepfunctions';
import { stateMachineDefinition } from '#drill/deployment';
import { handler as assessHandler } from '#functions/assess-incident/handler';
import { handler as containHandler } from '#functions/contain-root-credentials/handler';
import { handler as reportHandler } from '#functions/write-incident-report/handler';
import type { TaskItemState } from '#shared/contracts/task-item';
import { GateOutcomeSchema, TaskOutcomeSchema } from '#shared/contracts/task-outcome';
import { AssessInputSchema, ContainInputSchema, type WorkflowState, WorkflowStateSchema } from '#shared/contracts/workflow-state';
import {
  actionResult,
  containment,
  evidenceCollection,
  executionInput,
  rootSnapshot,
  taskVerification,
  verification,
} from '../helpers-state';

/**
 * The contracts between steps (functions/shared/contracts/): the state as the ASL builds it, on
 * the way that succeeds and on each way that fails, parses; a state that does not match stops the
 * step that reads it with InvalidStepInputError, before it does anything.
 */
describe('contracts between steps', () => {
  const ran: WorkflowState = {
    ...executionInput(),
    snapshot: { Payload: rootSnapshot() },
    containAndCollect: { Payload: { containment: containment(), evidence: evidenceCollection() } },
    verification: { Payload: verification() },
  };

  it('hold what each Catch and "Record ... Failure" state writes in place of a result', () => {
    const failed = {
      ...executionInput(),
      // Snapshot Root Credentials' Catch (ResultPath $.snapshot), then each Parallel branch's Record ... Failure.
      snapshot: { Error: 'AccessDeniedError', Cause: '{"errorMessage":"refused"}' },
      containAndCollect: {
        Payload: {
          containment: { step: 'contain-root-credentials', status: 'failed', error: { Error: 'States.Timeout', Cause: 'timed out' } },
          evidence: { step: 'collect-evidence', status: 'failed', error: { Error: 'TransientAwsError', Cause: 'throttled' } },
        },
      },
      // Verify Incident's Catch (ResultPath $.verification); a top-level Catch's $.failure.
      verification: { Error: 'Lambda.Unknown', Cause: 'killed' },
      failure: { Error: 'NotificationError', Cause: 'AuthorizationError' },
    } satisfies WorkflowState;
    expect(WorkflowStateSchema.parse(failed)).toEqual(failed);
    expect(WorkflowStateSchema.parse(ran)).toEqual(ran);
  });

  it('a step reads only what its input names: Contain Root Credentials reads the keys and certificates the snapshot saw', () => {
    const parsed = ContainInputSchema.parse(ran);
    expect(parsed.snapshot).toEqual({
      Payload: { step: 'snapshot-root-credentials', status: 'done', root: { accessKeys: null, signingCertificates: null } },
    });
    expect(Object.keys(AssessInputSchema.parse(ran)).sort()).toEqual([
      'accountId',
      'containAndCollect',
      'incidentId',
      'openedAt',
      'region',
      'settings',
      'snapshot',
      'source',
      'trigger',
      'unparsed',
    ]);
  });

  it('a result that does not match its contract stops the step that reads it, typed, before any call', async () => {
    const { root: _root, ...rootless } = rootSnapshot();
    await expect(assessHandler({ ...ran, snapshot: { Payload: rootless } })).rejects.toMatchObject({
      name: 'InvalidStepInputError',
      message: expect.stringContaining('snapshot'),
    });
    // A key without its Status: what the snapshot saw is not what containment would delete.
    const snapshot = rootSnapshot();
    await expect(
      containHandler({ ...ran, snapshot: { Payload: { ...snapshot, root: { ...snapshot.root, accessKeys: [{ AccessKeyId: 'AKIA' }] } } } }),
    ).rejects.toMatchObject({ name: 'InvalidStepInputError', message: expect.stringContaining('snapshot') });
    await expect(reportHandler({ ...ran, humanTasks: [{ taskId: 't', kind: 'console', status: 'approved' }] })).rejects.toMatchObject({
      name: 'InvalidStepInputError',
      message: expect.stringContaining('humanTasks'),
    });
  });

  it("hold what the Maps' Record states keep of each item, run from the ASL itself", async () => {
    const maps = stateMachineDefinition().States as Record<string, { ItemProcessor?: { States: Record<string, { Type: string }> } }>;
    const recordStates = (map: string) =>
      Object.entries(maps[map]!.ItemProcessor!.States).filter(([name, state]) => state.Type === 'Pass' && name.startsWith('Record '));
    // An item as the Record states can find it: everything the item's states may have added.
    const item: TaskItemState & { rejection: unknown; error: unknown } = {
      Payload: {
        input: {
          incidentId: 'i',
          accountId: '111122223333',
          severity: 'critical',
          task: {
            id: 'quarantine-iam-user-x',
            kind: 'remediation',
            remediation: { action: 'quarantine-iam-user', target: 'x', region: 'us-east-1' },
          },
          waitSeconds: 60,
          reminders: 3,
          maxReminders: 3,
        },
      },
      decision: { decision: 'approved', decidedBy: 'alice@responders.example', decidedAt: '2024-03-04T11:00:00.000Z', via: 'https' },
      action: { Payload: actionResult('quarantine-iam-user-x', { action: 'quarantine-iam-user', target: 'x', detail: 'quarantined' }) },
      verification: { Payload: taskVerification('quarantine-iam-user-x') },
      rejection: { Error: 'ApprovalRejectedError', Cause: 'Rejected by bob' },
      error: { Error: 'AccessDeniedError', Cause: 'refused' },
    };
    const run = (state: object) =>
      new StateMachine({ StartAt: 'Record', States: { Record: state } } as never).run(structuredClone(item) as never)
        .result as Promise<unknown>;
    const tasks = recordStates('Run Human Tasks');
    expect(tasks.map(([name]) => name).sort()).toEqual([
      'Record Completed Task',
      'Record Failed Task',
      'Record Overdue Task',
      'Record Rejected Task',
    ]);
    for (const [name, state] of tasks)
      expect({ name, parsed: TaskOutcomeSchema.safeParse(await run(state)).success }).toEqual({ name, parsed: true });
    const gate = recordStates('Ask Whether The Sign-In Was Expected');
    expect(gate.map(([name]) => name).sort()).toEqual(['Record Confirmation', 'Record Denial', 'Record No Confirmation']);
    for (const [name, state] of gate)
      expect({ name, parsed: GateOutcomeSchema.safeParse(await run(state)).success }).toEqual({ name, parsed: true });
  });
});
