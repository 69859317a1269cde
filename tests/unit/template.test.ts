import { expect } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { deployedFunctions, loadHandler, PROJECT_ROOT } from '#drill/deployment';
import { packagedTemplate, propertiesAt, type Resource, type ResourceType, resourcesOfType, type Statement } from '../helpers-template';
import { environmentBounds, LAMBDA_ENVIRONMENT_LIMIT } from '../helpers-environment';

/**
 * Assertions on the CloudFormation template `serverless package --stage test` generates
 * (`npm test` packages before it runs jest).
 */
const TEMPLATE = join(PROJECT_ROOT, '.serverless', 'cloudformation-template-update-stack.json');

let resources: Record<string, Resource>;

beforeAll(() => {
  if (!existsSync(TEMPLATE)) throw new Error('No packaged template: run `npm run package` first (npm test does).');
  resources = packagedTemplate().Resources;
});

/** The resources of a type, their properties typed as that type's where ../helpers-template has its schema. */
function ofType<T extends ResourceType>(type: T): ReturnType<typeof resourcesOfType<T>>;
function ofType(type: string): [string, Resource][];
function ofType(type: string): [string, Resource][] {
  return resourcesOfType(resources, type);
}
const logicalId = (key: string) => `${key[0]!.toUpperCase()}${key.slice(1)}LambdaFunction`;

type Role = Resource & { Properties: { Policies?: { PolicyDocument: { Statement: Statement[] } }[] } };
const statementsOf = (role: Role): Statement[] => role.Properties.Policies!.flatMap((p) => p.PolicyDocument.Statement);
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const roleOf = (functionLogicalId: string): Role => {
  const id = propertiesAt(resources, functionLogicalId, 'AWS::Lambda::Function').Role['Fn::GetAtt'][0];
  return { ...resources[id]!, Properties: propertiesAt(resources, id, 'AWS::IAM::Role') };
};

/**
 * Lambda delivers an asynchronous invocation's record to its destination (EventInvokeConfig
 * OnSuccess / OnFailure) with the function's own execution role, and refuses the config at create
 * time when that role may not: the action each kind of destination needs, by resource type.
 */
const DESTINATION_ACTIONS: Record<string, string> = {
  'AWS::SQS::Queue': 'sqs:SendMessage',
  'AWS::SNS::Topic': 'sns:Publish',
  'AWS::Lambda::Function': 'lambda:InvokeFunction',
  'AWS::Events::EventBus': 'events:PutEvents',
};
/** The same, for a destination given as an ARN: by the ARN's service. */
const DESTINATION_ARN_ACTIONS: Record<string, string> = {
  sqs: 'sqs:SendMessage',
  sns: 'sns:Publish',
  lambda: 'lambda:InvokeFunction',
  events: 'events:PutEvents',
};

function destinationAction(destination: unknown): string {
  const d = destination as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Sub'?: string };
  const arn = typeof destination === 'string' ? destination : d['Fn::Sub'];
  const action =
    arn !== undefined
      ? DESTINATION_ARN_ACTIONS[arn.split(':')[2] ?? '']
      : DESTINATION_ACTIONS[resources[d.Ref ?? d['Fn::GetAtt']?.[0] ?? '']?.Type ?? ''];
  if (!action) throw new Error(`No known destination action for ${JSON.stringify(destination)}`);
  return action;
}

/** Each async destination of a function in the template, with the action Lambda needs on it. */
function destinationsOf(functionLogicalId: string): { kind: string; action: string; arn: unknown }[] {
  return ofType('AWS::Lambda::EventInvokeConfig')
    .filter(([, c]) => c.Properties.FunctionName.Ref === functionLogicalId)
    .flatMap(([, c]) => Object.entries(c.Properties.DestinationConfig ?? {}))
    .map(([kind, { Destination }]) => ({ kind, action: destinationAction(Destination), arn: Destination }));
}

/** A statement that grants exactly one destination's action on exactly that destination. */
const isDestinationGrant = (functionLogicalId: string) => (s: Statement) =>
  destinationsOf(functionLogicalId).some(
    ({ action, arn }) => JSON.stringify(actionsOf(s)) === JSON.stringify([action]) && JSON.stringify(s.Resource) === JSON.stringify([arn]),
  );

/** The config bucket's baseline objects, the one place the baseline writer may put and delete. */
const CONFIG_OBJECTS = { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['ConfigBucket', 'Arn'] }, '/baseline/*']] };

// Each function's environment at its upper bound: tests/helpers-environment.ts.
const { boundOf, environmentBytes, placeholder } = environmentBounds(() => resources);

describe('packaged CloudFormation template', () => {
  it('grants no wildcard action anywhere', () => {
    for (const [id, role] of ofType('AWS::IAM::Role')) {
      for (const statement of statementsOf(role)) {
        for (const action of actionsOf(statement))
          expect({ id, action }).toEqual({ id, action: expect.not.stringMatching(/(^\*$)|(:\*$)/) });
      }
    }
  });

  it("gives each function its own role with exactly its handler's declared permissions, plus its own logs and async destinations", () => {
    for (const [key, binding] of deployedFunctions()) {
      const statements = statementsOf(roleOf(logicalId(key)));
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the step's module path is known only at run time, from the deployed functions
      const declared = (require(join(PROJECT_ROOT, binding.modulePath)) as { requiredPermissions: readonly string[] }).requiredPermissions;
      // Besides the declared actions: the destination grants (one action on one destination ARN each, held by the next test).
      const granted = statements
        .filter((s) => !isDestinationGrant(logicalId(key))(s))
        .flatMap(actionsOf)
        .filter((a) => !a.startsWith('logs:'));
      // As sets: s3:GetObject may be granted twice (the evidence, and the baseline object in its own statement).
      expect({ key, granted: [...new Set(granted)].sort() }).toEqual({ key, granted: [...new Set(declared)].sort() });
      const logs = statements.find((s) => actionsOf(s).includes('logs:PutLogEvents'))!;
      expect(JSON.stringify(logs.Resource)).toContain(`/aws/lambda/root-responder-test-${key}`);
      // Handler modules load (the module the template runs is the module the drill binds).
      expect(typeof loadHandler(binding)).toBe('function');
    }
  });

  it('lets each function with an async destination deliver to it: the action the destination needs, on exactly that ARN', () => {
    const configured = ofType('AWS::Lambda::EventInvokeConfig').map(([, c]) => c.Properties.FunctionName.Ref);
    expect(configured).toContain('IntakeLambdaFunction');
    for (const functionLogicalId of configured) {
      const statements = statementsOf(roleOf(functionLogicalId)).filter((s) => s.Effect === 'Allow');
      for (const { kind, action, arn } of destinationsOf(functionLogicalId)) {
        const resourcesGranted = statements.filter((s) => actionsOf(s).includes(action)).map((s) => s.Resource);
        expect({ functionLogicalId, kind, action, resourcesGranted }).toEqual({
          functionLogicalId,
          kind,
          action,
          resourcesGranted: expect.arrayContaining([[arn]]),
        });
        expect({ functionLogicalId, action, wildcard: resourcesGranted.flat().includes('*') }).toEqual({
          functionLogicalId,
          action,
          wildcard: false,
        });
      }
    }
    expect(destinationsOf('IntakeLambdaFunction')).toEqual([
      { kind: 'OnFailure', action: 'sqs:SendMessage', arn: { 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'Arn'] } },
    ]);
  });

  it('lets the member-reaching functions assume only their member role, and nothing else assume any role', () => {
    const assumers = Object.fromEntries(
      ofType('AWS::IAM::Role').flatMap(([id, role]) =>
        statementsOf(role)
          .filter((s) => actionsOf(s).includes('sts:AssumeRole'))
          .map((s) => [id, JSON.stringify(s.Resource)] as const),
      ),
    );
    expect(assumers).toEqual({
      CollectEvidenceRole: '[{"Fn::Sub":"arn:${AWS::Partition}:iam::*:role/root-responder-read"}]',
      VerifyIncidentRole: '[{"Fn::Sub":"arn:${AWS::Partition}:iam::*:role/root-responder-read"}]',
      VerifyHumanTaskRole: '[{"Fn::Sub":"arn:${AWS::Partition}:iam::*:role/root-responder-read"}]',
      RunApprovedActionRole: '[{"Fn::Sub":"arn:${AWS::Partition}:iam::*:role/root-responder-remediate"}]',
      CheckPipelineRole: '[{"Fn::Sub":"arn:${AWS::Partition}:iam::*:role/root-responder-read"}]',
      SnapshotRootCredentialsRole: '[{"Fn::Sub":"arn:${AWS::Partition}:iam::*:role/root-responder-read"}]',
    });
  });

  it('watches the forwarding: a canary schedule into intake, a scheduled check, and alarms to the responders', () => {
    expect(propertiesAt(resources, 'CanaryRule', 'AWS::Events::Rule').Targets[0]!.Arn).toEqual({
      'Fn::GetAtt': ['IntakeLambdaFunction', 'Arn'],
    });
    expect(resources['CanarySchedule']!.Properties).toMatchObject({
      ScheduleExpression: 'rate(15 minutes)',
      Target: { RoleArn: { 'Fn::GetAtt': ['CanaryRole', 'Arn'] } },
    });
    const schedules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression);
    expect(schedules.map(([, r]) => [r.Properties.ScheduleExpression, JSON.stringify(r.Properties.Targets[0]!.Arn)])).toEqual([
      ['rate(15 minutes)', '{"Fn::GetAtt":["CheckPipelineLambdaFunction","Arn"]}'],
      ['rate(15 minutes)', '{"Fn::GetAtt":["SendAlertDigestLambdaFunction","Arn"]}'],
    ]);
    const alarms = Object.fromEntries(
      ofType('AWS::CloudWatch::Alarm')
        .filter(([, a]) => a.Properties.Namespace === 'RootResponder')
        .map(([, a]) => [String(a.Properties.MetricName), a.Properties] as const),
    );
    expect(Object.keys(alarms).sort()).toEqual(['BrokenForwardingRules', 'SilentForwarders', 'UncoveredRegions', 'UnreadableAccounts']);
    // No data means the check itself stopped: that is an alarm too.
    expect(alarms['SilentForwarders']).toMatchObject({
      TreatMissingData: 'breaching',
      Threshold: 0,
      Period: 1800,
      AlarmActions: [{ Ref: 'AlertTopic' }],
    });
    for (const a of Object.values(alarms)) expect(a['Dimensions']).toEqual([{ Name: 'Stage', Value: 'test' }]);
  });

  it('runs every function on nodejs24.x, arm64', () => {
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      expect(fn.Properties['Runtime']).toBe('nodejs24.x');
      expect(fn.Properties['Architectures']).toEqual(['arm64']);
    }
  });

  it("keeps every function's environment within Lambda's 4 KB, intrinsics counted at their upper bound", () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions).toHaveLength(deployedFunctions().size);
    const sizes = functions.map(([id, fn]) => [id, environmentBytes(fn.Properties.Environment.Variables)] as const);
    expect(sizes.filter(([, bytes]) => bytes > LAMBDA_ENVIRONMENT_LIMIT)).toEqual([]);
    // The bounds are counted, not the intrinsics' JSON: a topic ARN at its bound is longer than `{"Ref":"AlertTopic"}`.
    expect(boundOf({ Ref: 'AlertTopic' })).toBe(
      `arn:${placeholder(10)}:sns:${placeholder(20)}:${placeholder(12)}:${placeholder(128 + 1 + 'AlertTopic'.length + 1 + 13)}`,
    );
    expect(boundOf({ 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, 'states']] })).toBe(`arn:${'x'.repeat(10)}:states`);
    expect(boundOf({ 'Fn::Sub': 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:q' })).toHaveLength(
      'arn::sqs:::q'.length + 10 + 20 + 12,
    );
    expect(() => boundOf({ 'Fn::GetAtt': ['IncidentsTable', 'StreamArn'] })).toThrow(
      /No environment size bound for Fn::GetAtt IncidentsTable.StreamArn/,
    );
  });

  it('lets exactly the functions that compare with the baseline read exactly its object, and only the writer write there', () => {
    const baselineKey = (resources['BaselineConfig']!.Properties['Key'] as string).trim();
    expect(baselineKey).toMatch(/^baseline\/[0-9a-f]{64}\.json$/);
    const object = { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['ConfigBucket', 'Arn'] }, `/${baselineKey}`]] };
    const readers = ofType('AWS::IAM::Role')
      .filter(([, role]) => statementsOf(role).some((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource).includes('ConfigBucket')))
      .map(
        ([id, role]) =>
          [id, statementsOf(role).filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource).includes('ConfigBucket'))] as const,
      );
    expect(Object.fromEntries(readers)).toEqual({
      SnapshotRootCredentialsRole: [{ Sid: 'Baseline', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [object] }],
      CollectEvidenceRole: [{ Sid: 'Baseline', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [object] }],
      RunApprovedActionRole: [{ Sid: 'Baseline', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [object] }],
      VerifyHumanTaskRole: [{ Sid: 'Baseline', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [object] }],
      WriteBaselineRole: [{ Effect: 'Allow', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: [CONFIG_OBJECTS] }],
    });
    // The readers are updated to a new key only after the custom resource wrote it (GetAtt), the writer names none.
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      const vars = (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
      expect({ id, object: vars['BASELINE_OBJECT'] }).toEqual({
        id,
        object: id === 'WriteBaselineLambdaFunction' ? '' : { 'Fn::GetAtt': ['BaselineConfig', 'Key'] },
      });
      expect(vars['BASELINE_BUCKET']).toEqual({ Ref: 'ConfigBucket' });
    }
    expect(resources['BaselineConfig']!.Properties['ServiceToken']).toEqual({ 'Fn::GetAtt': ['WriteBaselineLambdaFunction', 'Arn'] });
  });

  it("lets the bucket undos change any bucket's policy, ACL and Block Public Access but the responder's own two", () => {
    const role = resources['RunApprovedActionRole']!;
    expect(statementsOf(role).filter((s) => s.Sid === 'TargetAccountBuckets' || s.Sid === 'NotOwnBuckets')).toEqual([
      {
        Sid: 'TargetAccountBuckets',
        Effect: 'Allow',
        Action: [
          's3:DeleteBucketPolicy',
          's3:GetBucketAcl',
          's3:GetBucketPolicy',
          's3:GetBucketPublicAccessBlock',
          's3:PutBucketAcl',
          's3:PutBucketPolicy',
          's3:PutBucketPublicAccessBlock',
        ],
        Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::*' }],
      },
      {
        Sid: 'NotOwnBuckets',
        Effect: 'Deny',
        Action: ['s3:DeleteBucketPolicy', 's3:PutBucketAcl', 's3:PutBucketPolicy', 's3:PutBucketPublicAccessBlock'],
        Resource: [{ 'Fn::GetAtt': ['EvidenceBucket', 'Arn'] }, { 'Fn::GetAtt': ['ConfigBucket', 'Arn'] }],
      },
    ]);
  });

  it('puts no secret in any environment variable', () => {
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      const vars = fn.Properties.Environment.Variables;
      // Names of secrets (…_SECRET_ID) are fine; values of secrets are not.
      for (const name of Object.keys(vars)) expect(name.replace(/_SECRET_ID$/, '_REF')).not.toMatch(/SECRET|TOKEN|PASSWORD|KEY$/);
      expect(vars['RESPONDERS_SECRET_ID']).toBe('root-responder/test/responders');
    }
  });

  it('keeps evidence write-once: Object Lock (GOVERNANCE for the test stage), versioning, SSE-S3, no public access, TLS only', () => {
    const bucketId = 'EvidenceBucket';
    const bucket = resources[bucketId]!;
    expect(bucket.Type).toBe('AWS::S3::Bucket');
    expect(bucket.Properties['ObjectLockEnabled']).toBe(true);
    expect(bucket.Properties['ObjectLockConfiguration']).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
    });
    expect(bucket.Properties['VersioningConfiguration']).toEqual({ Status: 'Enabled' });
    expect(
      propertiesAt(resources, bucketId, 'AWS::S3::Bucket').BucketEncryption.ServerSideEncryptionConfiguration[0]!
        .ServerSideEncryptionByDefault,
    ).toEqual({
      SSEAlgorithm: 'AES256',
    });
    expect(bucket.Properties['PublicAccessBlockConfiguration']).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const policy = ofType('AWS::S3::BucketPolicy').find(([, p]) => JSON.stringify(p.Properties.Bucket).includes(bucketId))![1];
    expect(policy.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]),
    );
  });

  it('denies a plain DeleteObject on the evidence to everyone: a delete marker would hide the first collection from the verification', () => {
    // Object Lock keeps every version, but a DeleteObject without a version id still adds a delete
    // marker, and a GetObject by key (Verify Incident reads cloudtrail-index.json so) then finds nothing.
    const policy = ofType('AWS::S3::BucketPolicy').find(([, p]) => JSON.stringify(p.Properties.Bucket).includes('EvidenceBucket'))![1];
    expect(policy.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([
        {
          Sid: 'DenyDeleteMarkers',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:DeleteObject',
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['EvidenceBucket', 'Arn'] }, '/*']] },
        },
      ]),
    );
    // And no function's role is granted it, but the baseline writer on its own objects in the config bucket.
    for (const [id, role] of ofType('AWS::IAM::Role'))
      for (const statement of statementsOf(role)) {
        const deletes = actionsOf(statement).filter((a) => /^s3:(DeleteObject|\*)/.test(a));
        if (id === 'WriteBaselineRole' && JSON.stringify(statement.Resource) === JSON.stringify([CONFIG_OBJECTS])) continue;
        expect({ id, actions: deletes }).toEqual({ id, actions: [] });
      }
  });

  it('denies PutObject on the evidence to every principal but the function roles that write evidence', () => {
    // Who may write evidence follows the code: the roles granted s3:PutObject (from requiredPermissions).
    const writers = ofType('AWS::IAM::Role')
      .filter(([, role]) =>
        statementsOf(role).some(
          (s) => s.Effect === 'Allow' && actionsOf(s).includes('s3:PutObject') && JSON.stringify(s.Resource).includes('EvidenceBucket'),
        ),
      )
      .map(([id]) => id)
      .sort();
    expect(writers).toEqual(['AssessIncidentRole', 'CollectEvidenceRole', 'VerifyIncidentRole', 'WriteIncidentReportRole']);
    const policy = ofType('AWS::S3::BucketPolicy').find(([, p]) => JSON.stringify(p.Properties['Bucket']).includes('EvidenceBucket'))![1];
    const { Statement } = policy.Properties['PolicyDocument'] as { Statement: Record<string, unknown>[] };
    const deny = Statement.find((s) => s['Sid'] === 'DenyPutExceptEvidenceWriters');
    expect(deny).toEqual({
      Sid: 'DenyPutExceptEvidenceWriters',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['EvidenceBucket', 'Arn'] }, '/*']] },
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': writers.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })) } },
    });
    // Versioned: the version ids the emails carry name the objects as first written.
    expect(resources['EvidenceBucket']!.Properties['VersioningConfiguration']).toEqual({ Status: 'Enabled' });
  });

  it('gives both tables TTL and point-in-time recovery', () => {
    for (const id of ['IncidentsTable', 'ApprovalsTable']) {
      expect(resources[id]!.Properties['TimeToLiveSpecification']).toEqual({ AttributeName: 'ttl', Enabled: true });
      expect(resources[id]!.Properties['PointInTimeRecoverySpecification']).toEqual({ PointInTimeRecoveryEnabled: true });
    }
  });

  it('sends every kind of root event to intake, with a dead-letter queue', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties.Targets).includes('IntakeLambdaFunction'));
    const patterns = rules.map(([, r]) => r.Properties.EventPattern);
    expect(patterns).toEqual(
      expect.arrayContaining([
        {
          source: ['aws.signin'],
          'detail-type': ['AWS Console Sign In via CloudTrail', 'AWS Console Signin via CloudTrail'],
          detail: { userIdentity: { type: ['Root'] } },
        },
        { source: [{ prefix: 'aws.' }], 'detail-type': ['AWS API Call via CloudTrail'], detail: { userIdentity: { type: ['Root'] } } },
        {
          source: [{ prefix: 'aws.' }],
          'detail-type': ['AWS Console Action via CloudTrail'],
          detail: { userIdentity: { type: ['Root', { exists: false }] } },
        },
        { source: ['aws.signin'], detail: { eventName: ['PasswordRecoveryRequested', 'PasswordRecoveryCompleted'] } },
        { source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'], detail: { type: ['Policy:IAMUser/RootCredentialUsage'] } },
      ]),
    );
    const apiRule = rules.find(([, r]) => JSON.stringify(r.Properties.EventPattern).includes('AWS API Call'))![1];
    expect(apiRule.Properties.State).toBe('ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS');
    for (const [, rule] of rules) {
      expect(rule.Properties.Targets[0]!.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'Arn'] } });
    }
    const invokeConfig = ofType('AWS::Lambda::EventInvokeConfig').find(([, c]) => JSON.stringify(c.Properties).includes('Intake'))![1];
    expect(invokeConfig.Properties.DestinationConfig).toEqual({
      OnFailure: { Destination: { 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'Arn'] } },
    });
  });

  it("matches AWS's own sources only (EventBridge reserves aws.* for AWS); the canary rule its exact source", () => {
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties['EventPattern']);
    expect(rules.length).toBeGreaterThanOrEqual(6);
    for (const [id, rule] of rules) {
      const sources = (rule.Properties['EventPattern'] as { source?: unknown[] }).source;
      const onlyAws =
        Array.isArray(sources) &&
        sources.length > 0 &&
        sources.every((s) => (typeof s === 'string' && s.startsWith('aws.')) || JSON.stringify(s) === JSON.stringify({ prefix: 'aws.' }));
      expect({ id, sources, ok: onlyAws || (id === 'CanaryRule' && JSON.stringify(sources) === '["root-responder.canary"]') }).toEqual({
        id,
        sources,
        ok: true,
      });
    }
  });

  it('sends no root event straight to an email topic: the first one alerts through intake, the rest go to the digest', () => {
    const toTopics = ofType('AWS::Events::Rule').filter(([, r]) =>
      (r.Properties['Targets'] as { Arn: unknown }[]).some((t) => JSON.stringify(t.Arn).includes('Topic')),
    );
    expect(toTopics.map(([id]) => id)).toEqual([]);
    expect(JSON.stringify(resources['AlertTopicPolicy']!.Properties['PolicyDocument'])).not.toContain('events.amazonaws.com');
    // Alerts and digests on the alert topic; approval links on the responders' own topic, which nothing per-event publishes to.
    const topicsOf = (key: string) =>
      statementsOf(roleOf(logicalId(key)))
        .filter((st) => actionsOf(st).includes('sns:Publish'))
        .flatMap((st) => st.Resource as unknown[]);
    expect(topicsOf('intake')).toEqual([{ Ref: 'AlertTopic' }]);
    expect(topicsOf('sendAlertDigest')).toEqual([{ Ref: 'AlertTopic' }]);
    expect(topicsOf('requestApproval')).toEqual([{ Ref: 'RespondersTopic' }]);
    const environment = resources['SendAlertDigestLambdaFunction']!.Properties['Environment'] as { Variables: Record<string, unknown> };
    expect(environment.Variables['ALERT_DIGEST_MINUTES']).toBe('15');
  });

  it('alerts the responders on dead letters and on failed, timed-out or aborted executions', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const toAlertTopic = alarms.filter((a) => JSON.stringify(a['AlarmActions']) === JSON.stringify([{ Ref: 'AlertTopic' }]));
    const metrics = toAlertTopic.map((a) => a.MetricName);
    expect(metrics).toEqual(
      expect.arrayContaining([
        'ApproximateNumberOfMessagesVisible',
        'Errors',
        'ExecutionsFailed',
        'ExecutionsTimedOut',
        'ExecutionsAborted',
      ]),
    );
  });

  it('ends the incident of an execution that ended FAILED, TIMED_OUT or ABORTED: an EventBridge rule on this state machine runs the failure report', () => {
    const rule = resources['ExecutionEndedRule']!.Properties;
    const machineArn = {
      'Fn::Join': [
        ':',
        [
          'arn',
          { Ref: 'AWS::Partition' },
          'states',
          { Ref: 'AWS::Region' },
          { Ref: 'AWS::AccountId' },
          'stateMachine',
          'root-responder-test',
        ],
      ],
    };
    expect(rule['EventPattern']).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [machineArn] },
    });
    expect(rule['State']).toBe('ENABLED');
    expect(rule['Targets']).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': ['ReportFailureLambdaFunction', 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'Arn'] } },
      }),
    ]);
    expect(resources['ExecutionEndedInvokePermission']!.Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': ['ReportFailureLambdaFunction', 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': ['ExecutionEndedRule', 'Arn'] },
    });
    // Intake asks whether an open incident's execution still runs: DescribeExecution on this machine's executions only.
    const describe = statementsOf(roleOf('IntakeLambdaFunction')).find((st) => actionsOf(st).includes('states:DescribeExecution'))!;
    expect(describe.Resource).toEqual(
      expect.arrayContaining([
        {
          'Fn::Join': [
            ':',
            [
              'arn',
              { Ref: 'AWS::Partition' },
              'states',
              { Ref: 'AWS::Region' },
              { Ref: 'AWS::AccountId' },
              'execution',
              'root-responder-test',
              '*',
            ],
          ],
        },
      ]),
    );
  });

  it('sets a retention on every log group', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(16);
    for (const [, group] of groups) expect(group.Properties['RetentionInDays']).toBe(30);
  });

  it("wires the state machine to the functions by the ASL's FunctionName keys", () => {
    const [[, machine]] = ofType('AWS::StepFunctions::StateMachine') as [[string, Resource]];
    const text = JSON.stringify(machine.Properties['DefinitionString']);
    for (const key of [
      'snapshotRootCredentials',
      'containRootCredentials',
      'collectEvidence',
      'assessIncident',
      'requestApproval',
      'writeIncidentReport',
      'reportFailure',
    ]) {
      expect(text).toContain(logicalId(key));
    }
    expect(text).not.toMatch(/"FunctionName\\?":\\?"[a-z]/);
  });

  it('subscribes the configured responders by email', () => {
    const endpoints = ofType('AWS::SNS::Subscription').map(([, s]) => [s.Properties.Endpoint, s.Properties.TopicArn.Ref]);
    expect(endpoints).toEqual(
      expect.arrayContaining([
        ['responder@example.com', 'AlertTopic'],
        ['responder@example.com', 'RespondersTopic'],
        ['escalation@example.com', 'EscalationTopic'],
      ]),
    );
  });
});
