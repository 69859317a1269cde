// One IAM role per function, least privilege. The actions come from the code: each deployed
// handler module exports `requiredPermissions`; this file only says which resources each service
// prefix applies to for that function. A template test holds the result against the modules.
const { join } = require('node:path');
require('tsx/cjs');
// The framework's own logical ids (a function key -> `IntakeLambdaFunction`).
const naming = require('osls/lib/plugins/aws/lib/naming');

const names = require('./names.cjs');

const SERVICE = names.SERVICE;
const READ = names.MEMBER_READ_ROLE;
const WRITE = names.MEMBER_WRITE_ROLE;

/**
 * Function key -> the resources its actions apply to. The functions themselves (and their handler
 * modules) are serverless.yml's: a deployed function without an entry here, or an entry for a
 * function serverless.yml does not deploy, stops the package.
 */
const FUNCTIONS = {
  intake: { dynamodb: ['IncidentsTable'], sns: ['AlertTopic'], states: true, accountLevel: ['organizations'] },
  approvals: { dynamodb: ['ApprovalsTable'], sns: ['RespondersTopic', 'EscalationTopic'], states: 'sendTask', secret: true },
  snapshotRootCredentials: { dynamodb: ['IncidentsTable'], accountLevel: ['iam'], assumeRoot: ['IAMAuditRootUserCredentials'], memberRole: READ },
  containRootCredentials: { dynamodb: ['IncidentsTable'], accountLevel: ['iam'], assumeRoot: ['IAMDeleteRootUserCredentials'] },
  collectEvidence: { dynamodb: ['IncidentsTable'], accountLevel: ['cloudtrail', 'account', 'organizations', 'guardduty', 'iam'], evidence: true, assumeRoot: ['IAMAuditRootUserCredentials'], memberRole: READ },
  assessIncident: { evidence: true },
  notifyResponders: { sns: ['RespondersTopic'], evidence: true },
  requestApproval: { dynamodb: ['ApprovalsTable'], sns: ['RespondersTopic'], evidence: true },
  sendReminder: {},
  escalateTask: { sns: ['EscalationTopic'], evidence: true },
  runApprovedAction: { dynamodb: ['IncidentsTable'], accountLevel: ['iam', 'account', 'cloudtrail', 'guardduty', 'organizations', 'ec2', 'rds', 'kms', 'lambda', 'ram'], assumeRoot: ['IAMDeleteRootUserCredentials'], memberRole: WRITE, evidence: true },
  verifyHumanTask: { dynamodb: ['IncidentsTable'], accountLevel: ['iam', 'cloudtrail', 'account', 'organizations', 'guardduty', 'ec2', 'lambda', 'rds', 'kms', 'ram'], memberRole: READ, evidence: true },
  verifyIncident: { dynamodb: ['IncidentsTable'], accountLevel: ['cloudtrail', 'organizations'], evidence: true, memberRole: READ },
  writeIncidentReport: { dynamodb: ['IncidentsTable'], sns: ['RespondersTopic'], evidence: true, accountLevel: ['organizations'] },
  reportFailure: { dynamodb: ['IncidentsTable'], sns: ['AlertTopic'] },
  sendAlertDigest: { dynamodb: ['IncidentsTable'], sns: ['AlertTopic'] },
  checkPipeline: { dynamodb: ['IncidentsTable'], sns: ['AlertTopic'], accountLevel: ['organizations', 'account', 'events'], memberRole: READ },
  writeBaseline: { baselineWriter: true },
};
// The functions that read the baseline object (s3:GetObject on exactly that object, its own statement).
for (const key of ['snapshotRootCredentials', 'collectEvidence', 'runApprovedAction', 'verifyHumanTask']) FUNCTIONS[key].baseline = true;

const arn = (...parts) => ({ 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, ...parts]] });

function roleName(key) {
  return `${key[0].toUpperCase()}${key.slice(1)}Role`;
}

/** The handler module serverless.yml names for a function: functions/intake/handler.handler -> functions/intake/handler.ts */
function handlerModule(key, functions) {
  const handler = functions[key]?.handler;
  if (!handler) throw new Error(`${key}: serverless.yml has no handler for it (infra/roles.cjs)`);
  return `${handler.slice(0, handler.lastIndexOf('.'))}.ts`;
}

function permissionsOf(key, functions) {
  const file = handlerModule(key, functions);
  const mod = require(join(__dirname, '..', file));
  if (!Array.isArray(mod.requiredPermissions)) throw new Error(`${file} does not export requiredPermissions`);
  return [...mod.requiredPermissions];
}

function resourcesFor(key, service, stage) {
  const spec = FUNCTIONS[key];
  switch (service) {
    case 'dynamodb':
      return (spec.dynamodb || []).map((table) => ({ 'Fn::GetAtt': [table, 'Arn'] }));
    case 'sns':
      return (spec.sns || []).map((topic) => ({ Ref: topic }));
    case 'states':
      // SendTaskSuccess / SendTaskFailure take no resource ARN (the task token is the authority).
      if (spec.states === 'sendTask') return ['*'];
      // StartExecution acts on the state machine, DescribeExecution on its executions.
      return spec.states
        ? [
            arn('states', { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, 'stateMachine', names.stateMachineName(stage)),
            arn('states', { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, 'execution', names.stateMachineName(stage), '*'),
          ]
        : [];
    case 'secretsmanager':
      return spec.secret ? [arn('secretsmanager', { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, 'secret', `${names.respondersSecretId(stage)}-*`)] : [];
    case 's3':
      // The incidents' objects only (evidence, assessment, reports: written once, read back by later steps; no delete).
      if (spec.baselineWriter) return [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['ConfigBucket', 'Arn'] }, '/baseline/*']] }];
      return spec.evidence ? [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['EvidenceBucket', 'Arn'] }, '/incidents/*']] }] : [];
    case 'sts':
      // AssumeRoot targets the root user of a member account.
      return spec.assumeRoot ? ['arn:aws:iam::*:root'] : [];
    default:
      // Account-level reads (GetAccountSummary, LookupEvents, GetAlternateContact, ...) take no resource ARN.
      return (spec.accountLevel || []).includes(service) ? ['*'] : [];
  }
}

// Lambda delivers an asynchronous invocation's record to the function's destinations (serverless.yml
// `destinations.onSuccess` / `onFailure`) with the function's own role, and refuses the
// EventInvokeConfig at create time when that role may not. These roles are custom, so osls adds
// nothing for them: each destination gets its one action on exactly its ARN here.
const DESTINATION_ACTIONS = { sqs: 'sqs:SendMessage', sns: 'sns:Publish', function: 'lambda:InvokeFunction', eventBus: 'events:PutEvents' };
/** A destination given as an ARN: its type by the ARN's service. */
const DESTINATION_ARN_TYPES = { sqs: 'sqs', sns: 'sns', lambda: 'function', events: 'eventBus' };

/**
 * The destination grants of one function, from its `destinations` in serverless.yml, in the forms
 * osls takes: `{ type, arn }`, an ARN, or the key of another function in this service (the same
 * `Fn::GetAtt` osls puts in the EventInvokeConfig).
 */
function destinationStatements(key, destinations) {
  const statements = [];
  for (const [when, sid] of [['onSuccess', 'OnSuccessDestination'], ['onFailure', 'OnFailureDestination']]) {
    const target = destinations?.[when];
    if (!target) continue;
    let type;
    let resource;
    if (typeof target === 'object') {
      type = target.type;
      resource = target.arn;
    } else if (target.startsWith('arn:')) {
      type = DESTINATION_ARN_TYPES[target.split(':')[2]];
      resource = target;
    } else {
      type = 'function';
      resource = { 'Fn::GetAtt': [naming.getLambdaLogicalId(target), 'Arn'] };
    }
    const action = DESTINATION_ACTIONS[type];
    if (!action || !resource) throw new Error(`${key}: destinations.${when} ${JSON.stringify(target)} is not an sqs, sns, function or eventBus destination with an ARN (infra/roles.cjs)`);
    statements.push({ Sid: sid, Effect: 'Allow', Action: [action], Resource: [resource] });
  }
  return statements;
}

/** Extra conditions: AssumeRoot only with the task policies this function is meant to use. */
function conditionFor(key, service) {
  const spec = FUNCTIONS[key];
  if (service === 'sts' && spec.assumeRoot) {
    return { StringEquals: { 'sts:TaskPolicyArn': spec.assumeRoot.map((p) => `arn:aws:iam::aws:policy/root-task/${p}`) } };
  }
  return undefined;
}

/** `functions`: serverless.yml's functions (resolved), for each one's async destinations. */
function roles(stage, functions, baselineKey) {
  const deployed = Object.keys(functions);
  const unscoped = deployed.filter((key) => !FUNCTIONS[key]);
  const stale = Object.keys(FUNCTIONS).filter((key) => !functions[key]);
  if (unscoped.length > 0 || stale.length > 0) {
    throw new Error(`infra/roles.cjs: ${[...unscoped.map((k) => `${k} is deployed but has no resource scope here`), ...stale.map((k) => `${k} has a scope here but serverless.yml deploys no such function`)].join('; ')}`);
  }
  const resources = {};
  for (const key of deployed) {
    const actions = permissionsOf(key, functions);
    const byService = new Map();
    for (const action of actions) {
      const service = action.split(':')[0];
      if (!byService.has(service)) byService.set(service, []);
      byService.get(service).push(action);
    }
    const statements = [
      {
        Sid: 'OwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [arn('logs', { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, 'log-group', `/aws/lambda/${SERVICE}-${stage}-${key}`, '*')],
      },
    ];
    // sts:AssumeRole (a member account's role) and sts:AssumeRoot (a member's root) differ in resource.
    const assumeRole = byService.get('sts')?.filter((a) => a === 'sts:AssumeRole') ?? [];
    if (assumeRole.length > 0) {
      if (!FUNCTIONS[key].memberRole) throw new Error(`${key}: declares sts:AssumeRole but names no memberRole in infra/roles.cjs`);
      statements.push({ Sid: 'MemberAccountRole', Effect: 'Allow', Action: assumeRole, Resource: [{ 'Fn::Sub': `arn:\${AWS::Partition}:iam::*:role/${FUNCTIONS[key].memberRole}` }] });
      const rest = byService.get('sts').filter((a) => a !== 'sts:AssumeRole');
      if (rest.length > 0) byService.set('sts', rest);
      else byService.delete('sts');
    }
    // The baseline object: GetObject on exactly the key this deploy wrote, never the bucket.
    if (FUNCTIONS[key].baseline) {
      if (!byService.get('s3')?.includes('s3:GetObject')) throw new Error(`${key}: reads the baseline but does not declare s3:GetObject`);
      statements.push({ Sid: 'Baseline', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['ConfigBucket', 'Arn'] }, `/${baselineKey}`]] }] });
      // Without evidence to read, GetObject was for the baseline alone.
      if (!FUNCTIONS[key].evidence) {
        const rest = byService.get('s3').filter((a) => a !== 's3:GetObject');
        if (rest.length > 0) byService.set('s3', rest);
        else byService.delete('s3');
      }
    }
    // The target account's buckets (the exposure undos: bucket policies): bucket-level actions on any
    // bucket but the responder's own, whose policies nothing here may change.
    const bucketLevel = byService.get('s3')?.filter((a) => a.includes('Bucket')) ?? [];
    if (bucketLevel.length > 0) {
      statements.push({ Sid: 'TargetAccountBuckets', Effect: 'Allow', Action: bucketLevel, Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::*' }] });
      const writes = bucketLevel.filter((a) => !/^s3:Get/.test(a));
      if (writes.length > 0)
        statements.push({ Sid: 'NotOwnBuckets', Effect: 'Deny', Action: writes, Resource: [{ 'Fn::GetAtt': ['EvidenceBucket', 'Arn'] }, { 'Fn::GetAtt': ['ConfigBucket', 'Arn'] }] });
      const rest = byService.get('s3').filter((a) => !a.includes('Bucket'));
      if (rest.length > 0) byService.set('s3', rest);
      else byService.delete('s3');
    }
    for (const [service, serviceActions] of byService) {
      const resource = resourcesFor(key, service, stage);
      if (resource.length === 0) throw new Error(`${key}: no resource declared for ${service} actions (${serviceActions.join(', ')}) in infra/roles.cjs`);
      const condition = conditionFor(key, service);
      statements.push({ Effect: 'Allow', Action: serviceActions, Resource: resource, ...(condition ? { Condition: condition } : {}) });
    }
    statements.push(...destinationStatements(key, functions[key]?.destinations));
    resources[roleName(key)] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
        Policies: [{ PolicyName: `${SERVICE}-${stage}-${key}`, PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
      },
    };
  }
  return resources;
}

module.exports = async ({ options, resolveConfigurationProperty }) =>
  roles(options.stage || 'dev', await resolveConfigurationProperty(['functions']), (await resolveConfigurationProperty(['custom', 'config', 'baseline'])).key);
module.exports.FUNCTIONS = FUNCTIONS;
/** The handler modules of the functions that act in member accounts through one member role. */
module.exports.memberRoleModules = (functions, role) => Object.keys(FUNCTIONS).filter((key) => FUNCTIONS[key].memberRole === role && functions[key]).map((key) => handlerModule(key, functions));
module.exports.roleName = roleName;
