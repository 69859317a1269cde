import { CreateDetectorCommand, GetDetectorCommand, ListDetectorsCommand, UpdateDetectorCommand } from '@aws-sdk/client-guardduty';
import type { TargetClients } from '../clients';
import { awsCall } from '../errors';
import { defineRemediation, type RemediationMeta } from './types';

/**
 * GuardDuty in a region where root disabled (UpdateDetector --no-enable) or deleted (DeleteDetector)
 * its detector: the detector enabled again, or a new one created. A region has at most one
 * detector per account, so ListDetectors finds it whatever id the event named.
 */
async function detectorOf(clients: TargetClients, region: string): Promise<{ id: string; enabled: boolean } | undefined> {
  const gd = clients.guardduty(region);
  const list = await awsCall('guardduty:ListDetectors', () => gd.send(new ListDetectorsCommand({})));
  const id = list.DetectorIds?.[0];
  if (!id) return undefined;
  const out = await awsCall('guardduty:GetDetector', () => gd.send(new GetDetectorCommand({ DetectorId: id })));
  return { id, enabled: out.Status === 'ENABLED' };
}

const disable = (id: string, region: string) => `aws guardduty update-detector --detector-id ${id} --no-enable --region ${region}`;

export const enableGuardDutyDetectorMeta: RemediationMeta<'enable-guardduty-detector'> = {
  action: 'enable-guardduty-detector',
  runsIn: 'target-account',
  permissions: {
    run: ['guardduty:ListDetectors', 'guardduty:GetDetector', 'guardduty:UpdateDetector', 'guardduty:CreateDetector'],
    verify: ['guardduty:ListDetectors', 'guardduty:GetDetector'],
  },
  reversible: true,
  approvals: 1,
};

export const enableGuardDutyDetector = /* @__PURE__ */ defineRemediation(enableGuardDutyDetectorMeta, {
  async run({ clients, region }) {
    const gd = clients.guardduty(region);
    const found = await detectorOf(clients, region);
    if (found?.enabled)
      return {
        status: 'done',
        detail: `GuardDuty detector ${found.id} in ${region} is already enabled.`,
        undo: [disable(found.id, region)],
      };
    if (found) {
      await awsCall('guardduty:UpdateDetector', () => gd.send(new UpdateDetectorCommand({ DetectorId: found.id, Enable: true })));
      return {
        status: 'done',
        detail: `Enabled GuardDuty detector ${found.id} in ${region} again (UpdateDetector).`,
        undo: [disable(found.id, region)],
      };
    }
    const out = await awsCall('guardduty:CreateDetector', () => gd.send(new CreateDetectorCommand({ Enable: true })));
    const id = out.DetectorId ?? 'the new detector';
    return {
      status: 'done',
      detail: `Root deleted the detector in ${region}: created detector ${id}, enabled (its earlier findings are gone with the old one).`,
      undo: [`aws guardduty delete-detector --detector-id ${id} --region ${region}`],
    };
  },
  async verify({ clients, region }) {
    const found = await detectorOf(clients, region);
    if (!found) return { verified: false, reason: `No GuardDuty detector in ${region}` };
    return found.enabled
      ? { verified: true, reason: `GetDetector: detector ${found.id} in ${region} is ENABLED` }
      : { verified: false, reason: `GetDetector: detector ${found.id} in ${region} is still disabled` };
  },
  undoSteps: ({ target, region }) => [disable(target, region)],
});
