import type { Finding } from '#shared/findings';
import { resolveFindings } from '#functions/write-incident-report/resolutions';
import type { ReportAction, ReportTask } from '#functions/write-incident-report/write-incident-report';

/** Findings end in the state the incident ended in: what containment, a verified task or a remediation fixed says so. */
const finding = (
  id: string,
  title: string,
  evidence: string[] = ['snapshot-root-credentials'],
  category: Finding['category'] = 'root-credentials',
): Finding => ({
  id,
  category,
  severity: 'critical',
  title,
  detail: '',
  evidence,
});
const task = (id: string, title: string, extra: Partial<ReportTask> = {}): ReportTask => ({
  id,
  title,
  status: 'done',
  decidedBy: 'alice@responders.example',
  decidedAt: '2024-03-04T11:00:00Z',
  verified: true,
  ...extra,
});
const deleted = (target: string, at: string, status: ReportAction['status'] = 'done'): ReportAction => ({
  action: 'delete-root-access-key',
  target,
  status,
  at,
  detail: '',
});

describe('resolveFindings', () => {
  it('"Root has access keys" after containment deleted them: "Root had an access key; deleted at T by containment"', () => {
    const [keys, created] = resolveFindings(
      [
        finding('root-access-keys-present', 'Root has access keys'),
        finding('root-access-key-akia5zzzk44445xxffvb', 'Root created an access key for itself (AKIA5ZZZK44445XXFFVB)', ['e1']),
      ],
      { actions: [deleted('AKIA5ZZZK44445XXFFVB', '2024-03-04T10:20:03.100Z')], humanTasks: [], remediations: [] },
    );
    expect(keys!.resolution).toEqual({
      by: 'containment',
      at: '2024-03-04T10:20:03.100Z',
      text: 'Root had access keys; deleted at 2024-03-04T10:20:03.100Z by containment (AKIA5ZZZK44445XXFFVB).',
    });
    expect(created!.resolution!.text).toBe(
      'Root created an access key for itself (AKIA5ZZZK44445XXFFVB); deleted at 2024-03-04T10:20:03.100Z by containment (AKIA5ZZZK44445XXFFVB).',
    );
  });

  it('a key containment could not delete leaves "Root has access keys" still true', () => {
    const [keys] = resolveFindings([finding('root-access-keys-present', 'Root has access keys')], {
      actions: [deleted('AKIA1', '2024-03-04T10:20:03Z'), deleted('AKIA2', '2024-03-04T10:20:04Z', 'failed')],
      humanTasks: [],
      remediations: [],
    });
    expect(keys!.resolution).toBeUndefined();
  });

  it('a console task done and verified resolves its findings; done but not verified does not', () => {
    const findings = [finding('root-mfa-off', 'Root MFA is off', ['snapshot-root-credentials'], 'mfa-change')];
    expect(
      resolveFindings(findings, { actions: [], humanTasks: [task('enable-root-mfa', 'Re-enable root MFA')], remediations: [] })[0]!
        .resolution!.text,
    ).toBe(
      'Root MFA was off; root MFA re-enabled at 2024-03-04T11:00:00Z (task "Re-enable root MFA", alice@responders.example, verified by API).',
    );
    expect(
      resolveFindings(findings, {
        actions: [],
        humanTasks: [task('enable-root-mfa', 'Re-enable root MFA', { verified: false })],
        remediations: [],
      })[0]!.resolution,
    ).toBeUndefined();
  });

  it('an approved remediation that ran resolves the finding it was proposed for; one that did not run leaves it', () => {
    const user = finding('iam-user-tracy-stone', 'Root created IAM user `tracy_stone`', ['e1', 'e2'], 'iam-persistence');
    const remediation = {
      id: 'quarantine-iam-user-tracy-stone',
      action: 'quarantine-iam-user' as const,
      target: 'tracy_stone',
      region: 'us-east-1',
      undo: '',
      evidence: ['e1', 'e2'],
    };
    const ran = resolveFindings([user], {
      actions: [],
      humanTasks: [task(remediation.id, 'Approve: quarantine', { remediation: 'done' })],
      remediations: [remediation],
    });
    expect(ran[0]!.resolution).toMatchObject({
      by: 'remediation',
      text: expect.stringContaining(
        'undone at 2024-03-04T11:00:00Z by the approved remediation quarantine-iam-user on tracy_stone',
      ) as string,
    });
    const notRun = resolveFindings([user], {
      actions: [],
      humanTasks: [task(remediation.id, 'Approve: quarantine', { status: 'open', remediation: 'failed' })],
      remediations: [remediation],
    });
    expect(notRun[0]!.resolution).toBeUndefined();
  });
});
