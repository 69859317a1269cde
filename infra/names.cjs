// Every name the responder gives something outside its own stack's logical ids, defined once: the
// stack (serverless.yml, through config/load.cjs), the member templates, the SCP, the code and the
// drill all take them from here.
const SERVICE = 'root-responder';

/** Every name of a stage starts with this (rules, roles, schedules, StackSets), so the SCP can match it. */
const prefix = (stage) => `${SERVICE}-${stage}-`;

module.exports = {
  SERVICE,
  prefix,
  /** The CloudFormation stack serverless deploys: root-responder-<stage>. */
  stackName: (stage) => `${SERVICE}-${stage}`,
  /**
   * How the incidents table's name begins: CloudFormation names it <stack>-IncidentsTable-<random>
   * (serverless.yml gives it no TableName), so `incidents list|show|close` finds it by this prefix.
   */
  incidentsTablePrefix: (stage) => `${prefix(stage)}IncidentsTable-`,
  /** The state machine (serverless.yml custom.stateMachineName). */
  stateMachineName: (stage) => `${SERVICE}-${stage}`,
  /** A forwarding rule in another account or region: the responder's rule's logical id after the prefix. */
  ruleName: (stage, id) => `${prefix(stage)}${id}`,
  /** The role the forwarding rules send events to the responder's bus with. */
  forwardingRoleName: (stage) => `${prefix(stage)}forwarding`,
  /** The role the canary schedule puts its event with, and the schedule itself. */
  canaryRoleName: (stage) => `${prefix(stage)}canary`,
  canaryScheduleName: (stage) => `${prefix(stage)}canary`,
  /** The member roles the responder assumes: read (evidence, verification) and remediate (approved changes). */
  MEMBER_READ_ROLE: `${SERVICE}-read`,
  MEMBER_WRITE_ROLE: `${SERVICE}-remediate`,
  /** The organization's StackSets: member-roles and member-forwarding. */
  stackSetName: (stage, part) => `${prefix(stage)}member-${part}`,
  /**
   * The CloudFormation service role the responder's own stack is deployed with (serverless.yml
   * provider.iam.deploymentRole): the member SCP lets it, and StackSets, change the protected names.
   */
  deployRoleName: (stage) => `${prefix(stage)}deploy`,
  /** The Secrets Manager secret of the enrolled responders. */
  respondersSecretId: (stage) => `${SERVICE}/${stage}/responders`,
};
