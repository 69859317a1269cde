import type { SentTo } from './moto';

/**
 * Every AWS command the deployed code sends (each `new XxxCommand(` in functions/; drill/ and cli/
 * are not deployed), and where the contract tests check it:
 * - `moto`: a step sent it to moto_server and handled moto's real wire response;
 * - `moto-root-stand-in`: sent to moto inside a stubbed AssumeRoot session. AWS acts on the root
 *   user when UserName is omitted; moto has no root user, so the call reaches moto with UserName of
 *   an IAM user seeded with root's credentials added (moto.ts, rootSessionIam). Request shape,
 *   response parsing and error names are moto's; "acts on root" is not checked here (the drill's
 *   simulated account judges those calls with AWS's own root-task policy documents);
 * - `stub`: moto does not have the operation; a stub in moto.ts answers as AWS documents it.
 * `by` names the contract test files that send it; each of them checks, in its last test, that
 * it really did (itKeepsTheManifestHonest), and manifest.test.ts that this list matches the code.
 */
export interface Coverage {
  checks: { on: SentTo; by: string[] }[];
  /** Why a stub (or a stand-in) answers instead of moto. */
  why?: string;
  /** A behaviour of this command moto lacks, stubbed in front of moto. */
  alsoStubbed?: string;
  /** The packages that share this command name (S3 and S3 Control); the tests that check it send both. */
  packages?: string[];
}

const NO_ROOT_USER =
  'moto has no root user to act on when UserName is omitted (an AssumeRoot session): the call goes to moto for an IAM user seeded with the credentials';
const NO_ASSUME_ROOT = 'moto 5.2.1 has no sts:AssumeRoot';
const NO_ACCOUNT_OP = 'moto 5.2.1 serves only PutAlternateContact, GetAlternateContact and DeleteAlternateContact of the Account API';

export const MANIFEST: Record<string, Coverage> = {
  // ---------- STS
  AssumeRootCommand: {
    checks: [{ on: 'stub', by: ['snapshot.test.ts', 'contain.test.ts', 'account-state.test.ts', 'remediation.test.ts'] }],
    why: `${NO_ASSUME_ROOT}; the stub decides from moto's organization (management account, member target, RootSessions, root-task policy, <= 900 s, regional endpoint)`,
  },
  // ---------- IAM
  GetAccountSummaryCommand: { checks: [{ on: 'moto', by: ['snapshot.test.ts', 'remediation.test.ts', 'account-state.test.ts'] }] },
  ListVirtualMFADevicesCommand: { checks: [{ on: 'moto', by: ['snapshot.test.ts'] }] },
  ListOrganizationsFeaturesCommand: {
    checks: [{ on: 'stub', by: ['contain.test.ts', 'account-state.test.ts'] }],
    why: "moto 5.2.1 has no iam:ListOrganizationsFeatures; the stub answers from moto's organization with IAM's documented errors",
  },
  ListAccessKeysCommand: {
    checks: [
      { on: 'moto', by: ['remediation.test.ts'] },
      { on: 'moto-root-stand-in', by: ['snapshot.test.ts', 'contain.test.ts'] },
    ],
    why: `root's keys: ${NO_ROOT_USER}`,
  },
  ListSigningCertificatesCommand: {
    checks: [{ on: 'moto-root-stand-in', by: ['snapshot.test.ts', 'contain.test.ts'] }],
    why: NO_ROOT_USER,
  },
  ListMFADevicesCommand: { checks: [{ on: 'moto-root-stand-in', by: ['snapshot.test.ts'] }], why: NO_ROOT_USER },
  GetLoginProfileCommand: { checks: [{ on: 'moto-root-stand-in', by: ['snapshot.test.ts'] }], why: NO_ROOT_USER },
  DeleteAccessKeyCommand: { checks: [{ on: 'moto-root-stand-in', by: ['contain.test.ts', 'remediation.test.ts'] }], why: NO_ROOT_USER },
  DeleteSigningCertificateCommand: { checks: [{ on: 'moto-root-stand-in', by: ['contain.test.ts'] }], why: NO_ROOT_USER },
  DeactivateMFADeviceCommand: { checks: [{ on: 'moto-root-stand-in', by: ['remediation.test.ts'] }], why: NO_ROOT_USER },
  DeleteLoginProfileCommand: {
    checks: [{ on: 'moto-root-stand-in', by: ['remediation.test.ts'] }],
    why: `root's password: ${NO_ROOT_USER}`,
  },
  PutUserPolicyCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  GetUserPolicyCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  UpdateAccessKeyCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  GetRoleCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  UpdateAssumeRolePolicyCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  // ---------- Account
  GetAlternateContactCommand: { checks: [{ on: 'moto', by: ['account-state.test.ts', 'remediation.test.ts'] }] },
  PutAlternateContactCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  GetContactInformationCommand: { checks: [{ on: 'stub', by: ['account-state.test.ts'] }], why: NO_ACCOUNT_OP },
  GetAccountInformationCommand: { checks: [{ on: 'stub', by: ['account-state.test.ts'] }], why: NO_ACCOUNT_OP },
  GetPrimaryEmailCommand: { checks: [{ on: 'stub', by: ['account-state.test.ts'] }], why: NO_ACCOUNT_OP },
  ListRegionsCommand: {
    checks: [{ on: 'stub', by: ['account-state.test.ts', 'check-pipeline.test.ts'] }],
    why: `${NO_ACCOUNT_OP}; the stub pages at 10 so callers must follow NextToken`,
  },
  // ---------- Organizations
  DescribeOrganizationCommand: { checks: [{ on: 'moto', by: ['account-state.test.ts', 'remediation.test.ts'] }] },
  DescribeAccountCommand: { checks: [{ on: 'moto', by: ['account-state.test.ts'] }] },
  ListParentsCommand: { checks: [{ on: 'moto', by: ['account-state.test.ts'] }] },
  ListAccountsCommand: { checks: [{ on: 'moto', by: ['account-state.test.ts', 'check-pipeline.test.ts'] }] },
  ListPoliciesCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  CreatePolicyCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  AttachPolicyCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  DetachPolicyCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  ListPoliciesForTargetCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  // ---------- CloudTrail
  DescribeTrailsCommand: { checks: [{ on: 'moto', by: ['account-state.test.ts'] }] },
  GetTrailStatusCommand: { checks: [{ on: 'moto', by: ['account-state.test.ts', 'remediation.test.ts'] }] },
  StartLoggingCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  LookupEventsCommand: {
    checks: [{ on: 'stub', by: ['evidence.test.ts', 'remediation.test.ts', 'remediation-policies.test.ts'] }],
    why: 'moto 5.2.1 has no cloudtrail:LookupEvents; the stub answers from seeded records as AWS documents it (one attribute, 50 a page, newest first, NextToken bound to its parameters)',
  },
  // ---------- EC2 (exposure undos)
  DescribeSecurityGroupRulesCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  RevokeSecurityGroupIngressCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  DescribeImageAttributeCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  ModifyImageAttributeCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  DescribeInstancesCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  StopInstancesCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  GetFunctionCommand: { checks: [{ on: 'moto', by: ['review.test.ts'] }] },
  // ---------- EC2 and RDS (snapshot-share undos)
  DescribeSnapshotAttributeCommand: { checks: [{ on: 'moto', by: ['remediation-snapshots.test.ts'] }] },
  ModifySnapshotAttributeCommand: { checks: [{ on: 'moto', by: ['remediation-snapshots.test.ts'] }] },
  DescribeDBSnapshotAttributesCommand: { checks: [{ on: 'moto', by: ['remediation-snapshots.test.ts'] }] },
  ModifyDBSnapshotAttributeCommand: { checks: [{ on: 'moto', by: ['remediation-snapshots.test.ts'] }] },
  DescribeDBClusterSnapshotAttributesCommand: { checks: [{ on: 'moto', by: ['remediation-snapshots.test.ts'] }] },
  ModifyDBClusterSnapshotAttributeCommand: { checks: [{ on: 'moto', by: ['remediation-snapshots.test.ts'] }] },
  // ---------- S3 (the target account's buckets) and S3 Control (its account-level Block Public Access)
  GetBucketAclCommand: { checks: [{ on: 'moto', by: ['remediation-s3.test.ts'] }] },
  PutBucketAclCommand: { checks: [{ on: 'moto', by: ['remediation-s3.test.ts'] }] },
  GetPublicAccessBlockCommand: {
    checks: [{ on: 'moto', by: ['remediation-s3.test.ts'] }],
    packages: ['@aws-sdk/client-s3', '@aws-sdk/client-s3-control'],
  },
  PutPublicAccessBlockCommand: {
    checks: [{ on: 'moto', by: ['remediation-s3.test.ts'] }],
    packages: ['@aws-sdk/client-s3', '@aws-sdk/client-s3-control'],
  },
  // ---------- S3 and KMS resource policies (exposure undos)
  GetBucketPolicyCommand: { checks: [{ on: 'moto', by: ['remediation-policies.test.ts'] }] },
  PutBucketPolicyCommand: { checks: [{ on: 'moto', by: ['remediation-policies.test.ts'] }] },
  DeleteBucketPolicyCommand: { checks: [{ on: 'moto', by: ['remediation-policies.test.ts'] }] },
  GetKeyPolicyCommand: { checks: [{ on: 'moto', by: ['remediation-policies.test.ts'] }] },
  PutKeyPolicyCommand: { checks: [{ on: 'moto', by: ['remediation-policies.test.ts'] }] },
  // ---------- KMS, Lambda, RAM (grant and permission undos)
  ListGrantsCommand: { checks: [{ on: 'moto', by: ['remediation-grants.test.ts'] }] },
  RevokeGrantCommand: { checks: [{ on: 'moto', by: ['remediation-grants.test.ts'] }] },
  GetPolicyCommand: { checks: [{ on: 'moto', by: ['remediation-grants.test.ts'] }] },
  RemovePermissionCommand: { checks: [{ on: 'moto', by: ['remediation-grants.test.ts'] }] },
  GetFunctionUrlConfigCommand: { checks: [{ on: 'moto', by: ['remediation-grants.test.ts'] }] },
  UpdateFunctionUrlConfigCommand: { checks: [{ on: 'moto', by: ['remediation-grants.test.ts'] }] },
  GetResourceShareAssociationsCommand: { checks: [{ on: 'moto', by: ['remediation-grants.test.ts'] }] },
  DisassociateResourceShareCommand: {
    checks: [{ on: 'stub', by: ['remediation-grants.test.ts'] }],
    why: 'moto 5.2.1 has no ram:DisassociateResourceShare; the stub answers as the RAM API Reference documents (DISASSOCIATING), so the verification after it is covered by the SDK mocks (tests/unit/remediation-grants.test.ts) and the drill',
  },
  // ---------- GuardDuty
  ListDetectorsCommand: { checks: [{ on: 'moto', by: ['account-state.test.ts', 'remediation.test.ts'] }] },
  GetDetectorCommand: { checks: [{ on: 'moto', by: ['account-state.test.ts', 'remediation.test.ts'] }] },
  UpdateDetectorCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  CreateDetectorCommand: { checks: [{ on: 'moto', by: ['remediation.test.ts'] }] },
  // ---------- EventBridge
  ListRulesCommand: { checks: [{ on: 'moto', by: ['check-pipeline.test.ts'] }] },
  // ---------- S3
  PutObjectCommand: { checks: [{ on: 'moto', by: ['evidence.test.ts', 'write-baseline.test.ts'] }] },
  DeleteObjectCommand: { checks: [{ on: 'moto', by: ['write-baseline.test.ts'] }] },
  GetObjectCommand: { checks: [{ on: 'moto', by: ['evidence.test.ts', 'approvals.test.ts', 'remediation.test.ts'] }] },
  // ---------- DynamoDB (lib-dynamodb document commands)
  GetCommand: { checks: [{ on: 'moto', by: ['stores.test.ts', 'intake.test.ts', 'approvals.test.ts', 'evidence.test.ts'] }] },
  PutCommand: {
    checks: [{ on: 'moto', by: ['stores.test.ts', 'intake.test.ts', 'approvals.test.ts', 'evidence.test.ts', 'snapshot.test.ts'] }],
  },
  UpdateCommand: { checks: [{ on: 'moto', by: ['stores.test.ts', 'intake.test.ts'] }] },
  DeleteCommand: { checks: [{ on: 'moto', by: ['stores.test.ts', 'intake.test.ts'] }] },
  QueryCommand: { checks: [{ on: 'moto', by: ['stores.test.ts', 'check-pipeline.test.ts'] }] },
  ScanCommand: { checks: [{ on: 'moto', by: ['stores.test.ts'] }] },
  TransactWriteCommand: { checks: [{ on: 'moto', by: ['stores.test.ts', 'intake.test.ts'] }] },
  // ---------- Step Functions
  StartExecutionCommand: { checks: [{ on: 'moto', by: ['intake.test.ts'] }] },
  DescribeExecutionCommand: { checks: [{ on: 'moto', by: ['intake.test.ts'] }] },
  SendTaskSuccessCommand: {
    checks: [
      { on: 'moto', by: ['approvals.test.ts'] },
      { on: 'stub', by: ['approvals.test.ts'] },
    ],
    alsoStubbed:
      'task-token validation: moto accepts any token and does nothing; the stub in front of it refuses a token never issued (InvalidToken) or already answered (TaskTimedOut), as AWS does',
  },
  SendTaskFailureCommand: {
    checks: [{ on: 'moto', by: ['approvals.test.ts'] }],
    alsoStubbed: 'task-token validation, as for SendTaskSuccess',
  },
  // ---------- SNS, Secrets Manager
  PublishCommand: { checks: [{ on: 'moto', by: ['intake.test.ts', 'approvals.test.ts', 'check-pipeline.test.ts'] }] },
  GetSecretValueCommand: { checks: [{ on: 'moto', by: ['approvals.test.ts'] }] },
};
