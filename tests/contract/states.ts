import type { HumanTask, TaskItemState, WorkflowState } from '#shared/schemas';

/** Step inputs as the state machine hands them over (shapes from shared/schemas.ts). */
export const OPENED_AT = '2024-03-04T10:00:00.000Z';

export function workflowState(accountId: string, extra: Record<string, unknown> = {}): WorkflowState {
  return {
    incidentId: `${accountId}-20240304T100000Z-0123456789`,
    accountId,
    region: 'us-east-1',
    openedAt: OPENED_AT,
    receivedAt: '2024-03-04T10:03:00.000Z',
    source: 'cloudtrail',
    unparsed: false,
    trigger: {
      eventId: 'c1b2a3d4-0000-4000-8000-000000000001',
      eventName: 'ConsoleLogin',
      eventSource: 'signin.amazonaws.com',
      accountId,
      sourceIPAddress: '198.51.100.7',
      isRoot: true,
      benign: false,
      startsIncident: true,
      severity: 'critical',
      categories: [],
      reasons: ['Root signed in to the console.'],
      eventTime: OPENED_AT,
      parsed: true,
    },
    settings: { approvalWaitSeconds: 3600, maxReminders: 2 },
    ...extra,
  };
}

export function taskItem(accountId: string, task: Partial<HumanTask> & Pick<HumanTask, 'id'>, extra: Partial<TaskItemState> = {}): TaskItemState {
  return {
    Payload: {
      input: {
        incidentId: `${accountId}-20240304T100000Z-0123456789`,
        accountId,
        severity: 'critical',
        task: { kind: 'console', title: task.id, why: ['because'], steps: ['do it'], verification: 'by API', ...task },
        openedAt: OPENED_AT,
        waitSeconds: 3600,
        reminders: 0,
        maxReminders: 2,
      },
    },
    ...extra,
  };
}
