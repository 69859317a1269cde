// Serverless reads the stage configuration through this file: config/<stage>.json, validated by the
// same zod schema the code uses (functions/shared/config.ts), so a bad value stops `serverless
// package` / `deploy` with its name instead of deploying. It also turns the responder lists into
// the SNS email subscriptions, which YAML cannot loop over.
const { readFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');
require('tsx/cjs');
const { baselineObject, baselineOf, parseStageConfig } = require('../functions/shared/config.ts');
const { PIPELINE_METRICS } = require('../functions/shared/pipeline-metrics.ts');
const names = require('../infra/names.cjs');

function logicalName(prefix, index) {
  return `${prefix}${index}`;
}

/**
 * CloudFormation hands the custom resource its properties in an asynchronous Lambda invocation (at
 * most 256 KB), an update both the old and the new: a body over this is refused at package time.
 */
const BASELINE_MAX_BYTES = 120 * 1024;

function baselineWithin(object, stage) {
  const bytes = Buffer.byteLength(object.body, 'utf8');
  if (bytes > BASELINE_MAX_BYTES) {
    throw new Error(`config/${stage}.json: the baseline is ${bytes} bytes, over ${BASELINE_MAX_BYTES} (an update carries it twice in one 256 KB custom resource request)`);
  }
  return object;
}

function load(stage, dir = __dirname) {
  const file = join(dir, `${stage}.json`);
  if (!existsSync(file)) {
    throw new Error(`No configuration for stage "${stage}": create config/${stage}.json (copy config/example.json; see README "Configuration")`);
  }
  const config = parseStageConfig(JSON.parse(readFileSync(file, 'utf8')), `config/${stage}.json`);
  const subscriptions = {};
  const subscribe = (prefix, topic, people) =>
    people.forEach((person, i) => {
      subscriptions[logicalName(prefix, i)] = {
        Type: 'AWS::SNS::Subscription',
        Properties: { Protocol: 'email', Endpoint: person.email, TopicArn: { Ref: topic } },
      };
    });
  subscribe('AlertSubscriptionResponder', 'AlertTopic', config.responders);
  subscribe('AlertSubscriptionEscalation', 'AlertTopic', config.escalation);
  subscribe('RespondersSubscription', 'RespondersTopic', config.responders);
  subscribe('EscalationSubscription', 'EscalationTopic', config.escalation);
  const busPolicy =
    config.mode === 'organization' && config.expectedOrganizationId
      ? {
          ResponderBusOrganizationPolicy: {
            Type: 'AWS::Events::EventBusPolicy',
            Properties: {
              EventBusName: 'default',
              StatementId: 'root-responder-organization',
              Statement: {
                Effect: 'Allow',
                Principal: '*',
                Action: 'events:PutEvents',
                Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' },
                Condition: { StringEquals: { 'aws:PrincipalOrgID': config.expectedOrganizationId } },
              },
            },
          },
        }
      : {};
  if (config.mode === 'organization' && !config.expectedOrganizationId) {
    throw new Error(`config/${stage}.json: mode "organization" needs expectedOrganizationId (the bus accepts only that organization)`);
  }
  // One alarm per pipeline metric, from the list the check emits.
  const alarmPeriod = Math.max(1800, 2 * config.canaryIntervalMinutes * 60);
  const pipelineAlarms = Object.fromEntries(
    PIPELINE_METRICS.map((m) => [
      m.alarm,
      {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmDescription: m.description,
          Namespace: 'RootResponder',
          MetricName: m.metric,
          Dimensions: [{ Name: 'Stage', Value: stage }],
          Statistic: 'Maximum',
          Period: alarmPeriod,
          EvaluationPeriods: 1,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: m.missingData,
          AlarmActions: [{ Ref: 'AlertTopic' }],
        },
      },
    ]),
  );
  return {
    ...config,
    busPolicy,
    pipelineAlarms,
    names: {
      stateMachine: names.stateMachineName(stage),
      respondersSecretId: names.respondersSecretId(stage),
      memberReadRole: names.MEMBER_READ_ROLE,
      memberWriteRole: names.MEMBER_WRITE_ROLE,
      forwardingRole: names.forwardingRoleName(stage),
      canaryRole: names.canaryRoleName(stage),
    },
    knownSourceCidrsCsv: config.knownSourceCidrs.join(','),
    reminderIntervalSeconds: config.reminderIntervalMinutes * 60,
    // The baseline object the stack writes (Custom::BaselineConfig) and the functions read: { key, body }.
    baseline: baselineWithin(baselineObject(baselineOf(config)), stage),
    forwardingRegionsCsv: config.forwardingRegions.join(','),
    canarySchedule: `rate(${config.canaryIntervalMinutes} minutes)`,
    alertDigestSchedule: config.alertDigestMinutes === 1 ? 'rate(1 minute)' : `rate(${config.alertDigestMinutes} minutes)`,
    // One check at least per period, whatever the schedule's jitter: two intervals, at least 30 minutes.
    pipelineAlarmPeriodSeconds: alarmPeriod,
    subscriptions,
  };
}

module.exports = async ({ options }) => load(options.stage || 'dev');
module.exports.load = load;
