import { MEMBER_READ_ROLE } from '#infra/names.cjs';

/**
 * The pipeline check's metrics (namespace RootResponder, dimension Stage), one alarm each: the check
 * emits them and config/load.cjs generates the alarms from this one list.
 */
export const PIPELINE_METRICS = [
  {
    metric: 'SilentForwarders',
    alarm: 'PipelineSilentForwardersAlarm',
    // A check that stopped reporting is as bad as a silent forwarder.
    missingData: 'breaching',
    description:
      'An account or region stopped forwarding (its canary is late), or the pipeline check itself stopped reporting. Its alert email lists which.',
  },
  {
    metric: 'UncoveredRegions',
    alarm: 'PipelineUncoveredRegionsAlarm',
    missingData: 'notBreaching',
    description: 'A region is enabled in an account but the forwarding is not deployed there. Its alert email lists which.',
  },
  {
    metric: 'BrokenForwardingRules',
    alarm: 'PipelineBrokenForwardingRulesAlarm',
    missingData: 'notBreaching',
    description: 'A forwarding rule is deleted or disabled in an account and region. Its alert email lists which.',
  },
  {
    metric: 'UnreadableAccounts',
    alarm: 'PipelineUnreadableAccountsAlarm',
    missingData: 'notBreaching',
    description: `The pipeline check could not read an account's regions (is ${MEMBER_READ_ROLE} deployed there?).`,
  },
] as const;

export type PipelineMetric = (typeof PIPELINE_METRICS)[number]['metric'];
