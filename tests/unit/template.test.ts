import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployedFunctions, loadHandler, PROJECT_ROOT } from '#drill/deployment';

/**
 * Assertions on the CloudFormation template `serverless package --stage test` generates
 * (`npm test` packages before it runs jest).
 */
const TEMPLATE = join(PROJECT_ROOT, '.serverless', 'cloudformation-template-update-stack.json');

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: unknown }; // eslint-disable-line @typescript-eslint/no-explicit-any
let resources: Record<string, Resource>;

beforeAll(() => {
  if (!existsSync(TEMPLATE)) throw new Error('No packaged template: run `npm run package` first (npm test does).');
  resources = (JSON.parse(readFileSync(TEMPLATE, 'utf8')) as { Resources: Record<string, Resource> }).Resources;
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const logicalId = (key: string) => `${key[0]!.toUpperCase()}${key.slice(1)}LambdaFunction`;

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
}
const statementsOf = (role: Resource): Statement[] =>
  (role.Properties['Policies'] as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const roleOf = (functionLogicalId: string) =>
  resources[(resources[functionLogicalId]!.Properties['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]]!;

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
    .filter(([, c]) => (c.Properties['FunctionName'] as { Ref?: string }).Ref === functionLogicalId)
    .flatMap(([, c]) => Object.entries((c.Properties['DestinationConfig'] ?? {}) as Record<string, { Destination: unknown }>))
    .map(([kind, { Destination }]) => ({ kind, action: destinationAction(Destination), arn: Destination }));
}

/** A statement that grants exactly one destination's action on exactly that destination. */
const isDestinationGrant = (functionLogicalId: string) => (s: Statement) =>
  destinationsOf(functionLogicalId).some(
    ({ action, arn }) => JSON.stringify(actionsOf(s)) === JSON.stringify([action]) && JSON.stringify(s.Resource) === JSON.stringify([arn]),
  );

/**
 * Lambda's limit on a function's environment: 4 KB in all (4096 bytes), measured on the JSON of
 * the variables map, keys and values with their quotes, separators and escapes (its error quotes
 * the "String measured": `{"KEY":"value",...}`). In the template some values are intrinsics, known
 * only at deploy time; each is counted at an upper bound of what it resolves to, chosen by what it
 * names (a placeholder of that many characters, none of which JSON escapes):
 * - AWS::Partition: 10, `aws-us-gov`, the longest partition (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc).
 * - AWS::Region: 20, above the longest region code (15: `us-isof-south-1`). AWS::AccountId: 12 digits.
 * - AWS::URLSuffix: 16, `amazonaws.com.cn` (China). AWS::StackName: 128, CloudFormation's maximum.
 * - A name CloudFormation generates (the resource gives none): `<stack name>-<logical id>-<suffix>`,
 *   so at most 128 + 1 + the logical id + 1 + 13, and never over the service's own maximum
 *   (DynamoDB table 255, SNS topic 256, SQS queue 80, S3 bucket 63). A name the resource gives is its own length.
 * - Ref of a table or bucket: its name. Ref of an SNS topic: its ARN, `arn:<partition>:sns:<region>:<account>:<name>`.
 *   Fn::GetAtt Arn of a queue: `arn:<partition>:sqs:<region>:<account>:<name>`.
 * - Fn::GetAtt ApiEndpoint of an HTTP API: `https://<10-character api id>.execute-api.<region>.<URLSuffix>`.
 * - Fn::Join and Fn::Sub: their parts, each part at its bound.
 * Anything else has no bound yet: the test fails and names it, so a new intrinsic is sized before it deploys.
 */
const LAMBDA_ENVIRONMENT_LIMIT = 4096;
const PSEUDO_BOUNDS: Record<string, number> = {
  'AWS::Partition': 10,
  'AWS::Region': 20,
  'AWS::AccountId': 12,
  'AWS::URLSuffix': 16,
  'AWS::StackName': 128,
};
/** Resource type -> the property that names it, and the service's maximum name length. */
const NAMES: Record<string, { property: string; max: number }> = {
  'AWS::DynamoDB::Table': { property: 'TableName', max: 255 },
  'AWS::SNS::Topic': { property: 'TopicName', max: 256 },
  'AWS::SQS::Queue': { property: 'QueueName', max: 80 },
  'AWS::S3::Bucket': { property: 'BucketName', max: 63 },
};
const placeholder = (length: number) => 'x'.repeat(length);

function nameBound(id: string): string {
  const resource = resources[id];
  const naming = resource && NAMES[resource.Type];
  if (!resource || !naming) throw new Error(`No environment size bound for the name of ${id} (${resource?.Type ?? 'not in the template'})`);
  const given = resource.Properties[naming.property];
  if (given !== undefined) return boundOf(given);
  return placeholder(Math.min(naming.max, PSEUDO_BOUNDS['AWS::StackName']! + 1 + id.length + 1 + 13));
}

const arnBound = (service: string, id: string) =>
  [
    'arn',
    placeholder(PSEUDO_BOUNDS['AWS::Partition']!),
    service,
    placeholder(PSEUDO_BOUNDS['AWS::Region']!),
    placeholder(PSEUDO_BOUNDS['AWS::AccountId']!),
    nameBound(id),
  ].join(':');

function refBound(name: string): string {
  if (PSEUDO_BOUNDS[name] !== undefined) return placeholder(PSEUDO_BOUNDS[name]);
  switch (resources[name]?.Type) {
    case 'AWS::DynamoDB::Table':
    case 'AWS::S3::Bucket':
      return nameBound(name);
    case 'AWS::SNS::Topic':
      return arnBound('sns', name);
    default:
      throw new Error(`No environment size bound for Ref ${name} (${resources[name]?.Type ?? 'not in the template'})`);
  }
}

function getAttBound(id: string, attribute: string): string {
  const type = resources[id]?.Type;
  if (type === 'AWS::SQS::Queue' && attribute === 'Arn') return arnBound('sqs', id);
  if (type === 'AWS::ApiGatewayV2::Api' && attribute === 'ApiEndpoint')
    return `https://${placeholder(10)}.execute-api.${placeholder(PSEUDO_BOUNDS['AWS::Region']!)}.${placeholder(PSEUDO_BOUNDS['AWS::URLSuffix']!)}`;
  throw new Error(`No environment size bound for Fn::GetAtt ${id}.${attribute} (${type ?? 'not in the template'})`);
}

/** The longest string a template value can resolve to (its own text where it is a literal). */
function boundOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const v = value as {
    Ref?: string;
    'Fn::GetAtt'?: [string, string] | string;
    'Fn::Join'?: [string, unknown[]];
    'Fn::Sub'?: string | [string, Record<string, unknown>];
  };
  if (v.Ref !== undefined) return refBound(v.Ref);
  if (v['Fn::GetAtt'] !== undefined) {
    const [id, attribute] = typeof v['Fn::GetAtt'] === 'string' ? (v['Fn::GetAtt'].split('.') as [string, string]) : v['Fn::GetAtt'];
    return getAttBound(id, attribute);
  }
  if (v['Fn::Join'] !== undefined) return v['Fn::Join'][1].map(boundOf).join(v['Fn::Join'][0]);
  if (v['Fn::Sub'] !== undefined) {
    const [text, variables] = typeof v['Fn::Sub'] === 'string' ? [v['Fn::Sub'], {}] : v['Fn::Sub'];
    return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
      if (variables[name] !== undefined) return boundOf(variables[name]);
      const dot = name.indexOf('.');
      return dot < 0 || PSEUDO_BOUNDS[name] !== undefined ? refBound(name) : getAttBound(name.slice(0, dot), name.slice(dot + 1));
    });
  }
  throw new Error(`No environment size bound for ${JSON.stringify(value)}`);
}

/** A function's environment as Lambda measures it: the JSON of the variables, each intrinsic at its bound. */
const environmentBytes = (variables: Record<string, unknown>) =>
  Buffer.byteLength(JSON.stringify(Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, boundOf(v)]))), 'utf8');

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
      expect({ key, granted: [...granted].sort() }).toEqual({ key, granted: [...declared].sort() });
      const logs = statements.find((s) => actionsOf(s).includes('logs:PutLogEvents'))!;
      expect(JSON.stringify(logs.Resource)).toContain(`/aws/lambda/root-responder-test-${key}`);
      // Handler modules load (the module the template runs is the module the drill binds).
      expect(typeof loadHandler(binding)).toBe('function');
    }
  });

  it('lets each function with an async destination deliver to it: the action the destination needs, on exactly that ARN', () => {
    const configured = ofType('AWS::Lambda::EventInvokeConfig').map(([, c]) => (c.Properties['FunctionName'] as { Ref: string }).Ref);
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
    expect(resources['CanaryRule']!.Properties['Targets'][0].Arn).toEqual({ 'Fn::GetAtt': ['IntakeLambdaFunction', 'Arn'] });
    expect(resources['CanarySchedule']!.Properties).toMatchObject({
      ScheduleExpression: 'rate(15 minutes)',
      Target: { RoleArn: { 'Fn::GetAtt': ['CanaryRole', 'Arn'] } },
    });
    const schedules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties['ScheduleExpression']);
    expect(schedules.map(([, r]) => [r.Properties['ScheduleExpression'], JSON.stringify(r.Properties['Targets'][0].Arn)])).toEqual([
      ['rate(15 minutes)', '{"Fn::GetAtt":["CheckPipelineLambdaFunction","Arn"]}'],
    ]);
    const alarms = Object.fromEntries(
      ofType('AWS::CloudWatch::Alarm')
        .filter(([, a]) => a.Properties['Namespace'] === 'RootResponder')
        .map(([, a]) => [a.Properties['MetricName'], a.Properties]),
    );
    expect(Object.keys(alarms).sort()).toEqual(['BrokenForwardingRules', 'SilentForwarders', 'UncoveredRegions', 'UnreadableAccounts']);
    // No data means the check itself stopped: that is an alarm too.
    expect(alarms['SilentForwarders']).toMatchObject({
      TreatMissingData: 'breaching',
      Threshold: 0,
      Period: 1800,
      AlarmActions: [{ Ref: 'AlertTopic' }],
    });
    for (const a of Object.values<Record<string, unknown>>(alarms)) expect(a['Dimensions']).toEqual([{ Name: 'Stage', Value: 'test' }]);
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
    const sizes = functions.map(
      ([id, fn]) => [id, environmentBytes((fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables)] as const,
    );
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

  it('puts no secret in any environment variable', () => {
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      const vars = (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
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
    expect(bucket.Properties['BucketEncryption'].ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'AES256',
    });
    expect(bucket.Properties['PublicAccessBlockConfiguration']).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const policy = ofType('AWS::S3::BucketPolicy').find(([, p]) => JSON.stringify(p.Properties['Bucket']).includes(bucketId))![1];
    expect(policy.Properties['PolicyDocument'].Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]),
    );
  });

  it('denies a plain DeleteObject on the evidence to everyone: a delete marker would hide the first collection from the verification', () => {
    // Object Lock keeps every version, but a DeleteObject without a version id still adds a delete
    // marker, and a GetObject by key (Verify Incident reads cloudtrail-index.json so) then finds nothing.
    const policy = ofType('AWS::S3::BucketPolicy').find(([, p]) => JSON.stringify(p.Properties['Bucket']).includes('EvidenceBucket'))![1];
    expect(policy.Properties['PolicyDocument'].Statement).toEqual(
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
    // And no function's role is granted it.
    for (const [id, role] of ofType('AWS::IAM::Role'))
      for (const statement of statementsOf(role))
        expect({ id, actions: actionsOf(statement).filter((a) => /^s3:(DeleteObject|\*)/.test(a)) }).toEqual({ id, actions: [] });
  });

  it('denies PutObject on the evidence to every principal but the function roles that write evidence', () => {
    // Who may write evidence follows the code: the roles granted s3:PutObject (from requiredPermissions).
    const writers = ofType('AWS::IAM::Role')
      .filter(([, role]) => statementsOf(role).some((s) => s.Effect === 'Allow' && actionsOf(s).includes('s3:PutObject')))
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
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties['Targets']).includes('IntakeLambdaFunction'));
    const patterns = rules.map(([, r]) => r.Properties['EventPattern']);
    expect(patterns).toEqual(
      expect.arrayContaining([
        {
          'detail-type': ['AWS Console Sign In via CloudTrail', 'AWS Console Signin via CloudTrail'],
          detail: { userIdentity: { type: ['Root'] } },
        },
        { 'detail-type': ['AWS API Call via CloudTrail'], detail: { userIdentity: { type: ['Root'] } } },
        { 'detail-type': ['AWS Console Action via CloudTrail'], detail: { userIdentity: { type: ['Root', { exists: false }] } } },
        { source: ['aws.signin'], detail: { eventName: ['PasswordRecoveryRequested', 'PasswordRecoveryCompleted'] } },
        { source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'], detail: { type: ['Policy:IAMUser/RootCredentialUsage'] } },
      ]),
    );
    const apiRule = rules.find(([, r]) => JSON.stringify(r.Properties['EventPattern']).includes('AWS API Call'))![1];
    expect(apiRule.Properties['State']).toBe('ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS');
    for (const [, rule] of rules) {
      expect(rule.Properties['Targets'][0].DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'Arn'] } });
    }
    const invokeConfig = ofType('AWS::Lambda::EventInvokeConfig').find(([, c]) => JSON.stringify(c.Properties).includes('Intake'))![1];
    expect(invokeConfig.Properties['DestinationConfig']).toEqual({
      OnFailure: { Destination: { 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'Arn'] } },
    });
  });

  it('alerts the responders on dead letters and on failed, timed-out or aborted executions', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const toAlertTopic = alarms.filter((a) => JSON.stringify(a['AlarmActions']) === JSON.stringify([{ Ref: 'AlertTopic' }]));
    const metrics = toAlertTopic.map((a) => a['MetricName']);
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
    const endpoints = ofType('AWS::SNS::Subscription').map(([, s]) => [s.Properties['Endpoint'], s.Properties['TopicArn'].Ref]);
    expect(endpoints).toEqual(
      expect.arrayContaining([
        ['responder@example.com', 'AlertTopic'],
        ['responder@example.com', 'RespondersTopic'],
        ['escalation@example.com', 'EscalationTopic'],
      ]),
    );
  });
});
