import { ListGrantsCommand, RevokeGrantCommand, type GrantListEntry } from '@aws-sdk/client-kms';
import {
  GetFunctionUrlConfigCommand,
  GetPolicyCommand,
  RemovePermissionCommand,
  UpdateFunctionUrlConfigCommand,
} from '@aws-sdk/client-lambda';
import { DisassociateResourceShareCommand, GetResourceShareAssociationsCommand, type ResourceShareAssociation } from '@aws-sdk/client-ram';
import type { TargetClients } from '../clients';
import { awsCall, typedAwsError, unlessAbsent } from '../errors';
import { parseGrantTarget, parsePermissionTarget, parseResourceShareTarget } from '../exposure';
import { defineRemediation, type RemediationMeta } from './types';

/**
 * The undos of the grants and permissions root gave outside the account, each exactly what its event
 * recorded (exposure.ts `undoTarget`): a KMS grant revoked by its grant id, a Lambda resource-policy
 * statement removed by its statement id, a function URL with auth type NONE made to require IAM auth
 * (kept, not deleted: a recreated URL would be a new URL), the outside principals removed from a RAM
 * share. Each is re-read by API afterwards and says how a person puts it back.
 */

const sh = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

// ---------- revoke-kms-grant ----------

/** The grant as ListGrants shows it, or undefined when the key has no such grant (or no longer exists). */
async function grantOf(clients: TargetClients, region: string, keyId: string, grantId: string): Promise<GrantListEntry | undefined> {
  let marker: string | undefined;
  do {
    const out = await unlessAbsent(
      'kms:ListGrants',
      () => clients.kms(region).send(new ListGrantsCommand({ KeyId: keyId, GrantId: grantId, ...(marker ? { Marker: marker } : {}) })),
      ['NotFoundException'],
    );
    const found = (out?.Grants ?? []).find((g) => g.GrantId === grantId);
    if (found) return found;
    marker = out?.Truncated ? out.NextMarker : undefined;
  } while (marker);
  return undefined;
}

/** The command that creates an equivalent grant (a new grant: a new id and token). */
function createGrant(keyId: string, region: string, g?: GrantListEntry): string {
  if (!g)
    return `aws kms create-grant --key-id ${sh(keyId)} --grantee-principal <the grantee the finding names> --operations <its operations> --region ${region} (a new grant, with a new grant id and token: the revoked one cannot be restored)`;
  const constraints = g.Constraints && Object.keys(g.Constraints).length ? ` --constraints ${sh(JSON.stringify(g.Constraints))}` : '';
  return `aws kms create-grant --key-id ${sh(keyId)} --grantee-principal ${sh(g.GranteePrincipal ?? '?')} --operations ${(g.Operations ?? []).join(' ')}${g.RetiringPrincipal ? ` --retiring-principal ${sh(g.RetiringPrincipal)}` : ''}${constraints}${g.Name ? ` --name ${sh(g.Name)}` : ''} --region ${region}`;
}

export const revokeKmsGrantMeta: RemediationMeta<'revoke-kms-grant'> = {
  action: 'revoke-kms-grant',
  runsIn: 'target-account',
  permissions: { run: ['kms:ListGrants', 'kms:RevokeGrant'], verify: ['kms:ListGrants'] },
  reversible: false,
  approvals: 1,
};

export const revokeKmsGrant = /* @__PURE__ */ defineRemediation(revokeKmsGrantMeta, {
  async run({ clients, region, target }) {
    const { keyId, grantId } = parseGrantTarget(target);
    const grant = await grantOf(clients, region, keyId, grantId);
    if (!grant)
      return { status: 'done', detail: `KMS key ${keyId} in ${region} has no grant ${grantId} any more: nothing to revoke.`, undo: [] };
    await unlessAbsent('kms:RevokeGrant', () => clients.kms(region).send(new RevokeGrantCommand({ KeyId: keyId, GrantId: grantId })), [
      'NotFoundException',
    ]);
    return {
      status: 'done',
      detail: `Revoked grant ${grantId} on KMS key ${keyId} in ${region} (RevokeGrant): ${grant.GranteePrincipal ?? '?'} may no longer ${(grant.Operations ?? []).join(', ') || 'use the key'}. Not reversible: a new grant gets a new id and token.`,
      undo: [createGrant(keyId, region, grant)],
    };
  },
  async verify({ clients, region, target }) {
    const { keyId, grantId } = parseGrantTarget(target);
    const grant = await grantOf(clients, region, keyId, grantId);
    return grant
      ? {
          verified: false,
          reason: `ListGrants: KMS key ${keyId} in ${region} still has grant ${grantId} for ${grant.GranteePrincipal ?? '?'}`,
        }
      : { verified: true, reason: `ListGrants: KMS key ${keyId} in ${region} has no grant ${grantId}` };
  },
  undoSteps: ({ target, region }) => [createGrant(parseGrantTarget(target).keyId, region)],
});

// ---------- remove-lambda-permission ----------

interface PolicyStatement {
  Sid?: string;
  Principal?: unknown;
  Action?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** The function's resource-policy statements, or undefined when it has no policy (or no longer exists): ResourceNotFoundException. */
async function statementsOf(clients: TargetClients, region: string, functionName: string): Promise<PolicyStatement[] | undefined> {
  const out = await unlessAbsent(
    'lambda:GetPolicy',
    () => clients.lambda(region).send(new GetPolicyCommand({ FunctionName: functionName })),
    ['ResourceNotFoundException'],
  );
  if (!out?.Policy) return undefined;
  try {
    const doc = JSON.parse(out.Policy) as { Statement?: PolicyStatement | PolicyStatement[] };
    return Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  } catch (error) {
    throw typedAwsError('lambda:GetPolicy', error);
  }
}

/** The CLI command that adds the statement again, with the values its event recorded (and the statement's conditions, when read). */
function addPermission(t: ReturnType<typeof parsePermissionTarget>, region: string, s?: PolicyStatement): string {
  const condition = (op: string, key: string) => {
    const v = s?.Condition?.[op]?.[key];
    return typeof v === 'string' ? v : undefined;
  };
  const sourceArn = condition('ArnLike', 'AWS:SourceArn') ?? condition('ArnEquals', 'AWS:SourceArn');
  const sourceAccount = condition('StringEquals', 'AWS:SourceAccount');
  const orgId = condition('StringEquals', 'aws:PrincipalOrgID');
  const urlAuth = t.functionUrlAuthType ?? condition('StringEquals', 'lambda:FunctionUrlAuthType');
  return `aws lambda add-permission --function-name ${sh(t.functionName)} --statement-id ${sh(t.statementId)} --action ${sh(t.action)} --principal ${sh(t.principal)}${
    urlAuth ? ` --function-url-auth-type ${urlAuth}` : ''
  }${sourceArn ? ` --source-arn ${sh(sourceArn)}` : ''}${sourceAccount ? ` --source-account ${sourceAccount}` : ''}${
    orgId ? ` --principal-org-id ${orgId}` : ''
  } --region ${region}`;
}

export const removeLambdaPermissionMeta: RemediationMeta<'remove-lambda-permission'> = {
  action: 'remove-lambda-permission',
  runsIn: 'target-account',
  permissions: { run: ['lambda:GetPolicy', 'lambda:RemovePermission'], verify: ['lambda:GetPolicy'] },
  reversible: true,
  approvals: 1,
};

export const removeLambdaPermission = /* @__PURE__ */ defineRemediation(removeLambdaPermissionMeta, {
  async run({ clients, region, target }) {
    const t = parsePermissionTarget(target);
    const statement = (await statementsOf(clients, region, t.functionName))?.find((s) => s.Sid === t.statementId);
    if (!statement)
      return {
        status: 'done',
        detail: `Lambda function ${t.functionName} in ${region} has no statement ${t.statementId} in its resource policy any more: nothing to remove.`,
        undo: [],
      };
    await unlessAbsent(
      'lambda:RemovePermission',
      () => clients.lambda(region).send(new RemovePermissionCommand({ FunctionName: t.functionName, StatementId: t.statementId })),
      ['ResourceNotFoundException'],
    );
    return {
      status: 'done',
      detail: `Removed statement ${t.statementId} (${t.action} for ${t.principal}) from the resource policy of Lambda function ${t.functionName} in ${region} (RemovePermission).`,
      undo: [addPermission(t, region, statement)],
    };
  },
  async verify({ clients, region, target }) {
    const t = parsePermissionTarget(target);
    const statements = await statementsOf(clients, region, t.functionName);
    if (statements === undefined)
      return {
        verified: true,
        reason: `GetPolicy: Lambda function ${t.functionName} in ${region} has no resource policy (ResourceNotFoundException)`,
      };
    return statements.some((s) => s.Sid === t.statementId)
      ? { verified: false, reason: `GetPolicy: Lambda function ${t.functionName} in ${region} still has statement ${t.statementId}` }
      : { verified: true, reason: `GetPolicy: Lambda function ${t.functionName} in ${region} has no statement ${t.statementId}` };
  },
  undoSteps: ({ target, region }) => [addPermission(parsePermissionTarget(target), region)],
});

// ---------- require-function-url-auth ----------

async function urlAuthOf(clients: TargetClients, region: string, functionName: string): Promise<string | undefined> {
  const out = await unlessAbsent(
    'lambda:GetFunctionUrlConfig',
    () => clients.lambda(region).send(new GetFunctionUrlConfigCommand({ FunctionName: functionName })),
    ['ResourceNotFoundException'],
  );
  return out ? (out.AuthType ?? '?') : undefined;
}

const reopenUrl = (functionName: string, region: string) =>
  `aws lambda update-function-url-config --function-name ${sh(functionName)} --auth-type NONE --region ${region}`;

export const requireFunctionUrlAuthMeta: RemediationMeta<'require-function-url-auth'> = {
  action: 'require-function-url-auth',
  runsIn: 'target-account',
  permissions: { run: ['lambda:GetFunctionUrlConfig', 'lambda:UpdateFunctionUrlConfig'], verify: ['lambda:GetFunctionUrlConfig'] },
  reversible: true,
  approvals: 1,
};

export const requireFunctionUrlAuth = /* @__PURE__ */ defineRemediation(requireFunctionUrlAuthMeta, {
  async run({ clients, region, target }) {
    const fn = target;
    const auth = await urlAuthOf(clients, region, fn);
    if (auth === undefined)
      return { status: 'done', detail: `Lambda function ${fn} in ${region} has no function URL any more: nothing to close.`, undo: [] };
    if (auth === 'AWS_IAM')
      return {
        status: 'done',
        detail: `The function URL of ${fn} in ${region} already requires IAM auth (AWS_IAM): nothing to change.`,
        undo: [],
      };
    await awsCall('lambda:UpdateFunctionUrlConfig', () =>
      clients.lambda(region).send(new UpdateFunctionUrlConfigCommand({ FunctionName: fn, AuthType: 'AWS_IAM' })),
    );
    return {
      status: 'done',
      detail: `The function URL of Lambda function ${fn} in ${region} now requires IAM auth (UpdateFunctionUrlConfig AuthType AWS_IAM, was ${auth}); the URL itself is kept. A resource-policy statement for lambda:InvokeFunctionUrl conditioned on auth type NONE no longer lets anyone in.`,
      undo: [reopenUrl(fn, region)],
    };
  },
  async verify({ clients, region, target }) {
    const auth = await urlAuthOf(clients, region, target);
    if (auth === undefined)
      return {
        verified: true,
        reason: `GetFunctionUrlConfig: Lambda function ${target} in ${region} has no function URL (ResourceNotFoundException)`,
      };
    return auth === 'AWS_IAM'
      ? { verified: true, reason: `GetFunctionUrlConfig: the function URL of ${target} in ${region} requires AWS_IAM` }
      : { verified: false, reason: `GetFunctionUrlConfig: the function URL of ${target} in ${region} has auth type ${auth}` };
  },
  undoSteps: ({ target, region }) => [reopenUrl(target, region)],
});

// ---------- disassociate-resource-share ----------

const GONE = new Set(['DISASSOCIATED', 'DISASSOCIATING']);

/** The share's principal associations, or undefined when RAM no longer knows the share (UnknownResourceException). */
async function associationsOf(clients: TargetClients, region: string, arn: string): Promise<ResourceShareAssociation[] | undefined> {
  const all: ResourceShareAssociation[] = [];
  let token: string | undefined;
  do {
    const out = await unlessAbsent(
      'ram:GetResourceShareAssociations',
      () =>
        clients.ram(region).send(
          new GetResourceShareAssociationsCommand({
            associationType: 'PRINCIPAL',
            resourceShareArns: [arn],
            ...(token ? { nextToken: token } : {}),
          }),
        ),
      ['UnknownResourceException'],
    );
    if (!out) return undefined;
    all.push(...(out.resourceShareAssociations ?? []));
    token = out.nextToken;
  } while (token);
  return all;
}

/** The target's principals still associated (not DISASSOCIATED or DISASSOCIATING, and present at all). */
const stillShared = (associations: ResourceShareAssociation[], principals: string[]) =>
  principals.filter((p) => associations.some((a) => a.associatedEntity === p && !GONE.has(a.status ?? '')));

const associate = (arn: string, region: string, principals: string[]) =>
  `aws ram associate-resource-share --resource-share-arn ${sh(arn)} --principals ${principals.map(sh).join(' ')} --region ${region}`;

export const disassociateResourceShareMeta: RemediationMeta<'disassociate-resource-share'> = {
  action: 'disassociate-resource-share',
  runsIn: 'target-account',
  permissions: {
    run: ['ram:GetResourceShareAssociations', 'ram:DisassociateResourceShare'],
    verify: ['ram:GetResourceShareAssociations'],
  },
  reversible: true,
  approvals: 1,
};

export const disassociateResourceShare = /* @__PURE__ */ defineRemediation(disassociateResourceShareMeta, {
  async run({ clients, region, target }) {
    const { resourceShareArn: arn, principals } = parseResourceShareTarget(target);
    const associations = await associationsOf(clients, region, arn);
    const present = associations ? stillShared(associations, principals) : [];
    if (present.length === 0)
      return {
        status: 'done',
        detail: `Resource share ${arn} in ${region} is no longer shared with ${principals.join(', ')}: nothing to remove.`,
        undo: [],
      };
    await unlessAbsent(
      'ram:DisassociateResourceShare',
      () => clients.ram(region).send(new DisassociateResourceShareCommand({ resourceShareArn: arn, principals: present })),
      ['UnknownResourceException'],
    );
    return {
      status: 'done',
      detail: `Removed ${present.join(', ')} from resource share ${arn} in ${region} (DisassociateResourceShare); the share and its other principals are kept.`,
      undo: [associate(arn, region, present)],
    };
  },
  async verify({ clients, region, target }) {
    const { resourceShareArn: arn, principals } = parseResourceShareTarget(target);
    const associations = await associationsOf(clients, region, arn);
    if (associations === undefined)
      return {
        verified: true,
        reason: `GetResourceShareAssociations: resource share ${arn} in ${region} no longer exists (UnknownResourceException)`,
      };
    const left = stillShared(associations, principals);
    return left.length === 0
      ? {
          verified: true,
          reason: `GetResourceShareAssociations: resource share ${arn} in ${region} is not shared with ${principals.join(', ')}`,
        }
      : {
          verified: false,
          reason: `GetResourceShareAssociations: resource share ${arn} in ${region} is still shared with ${left.join(', ')}`,
        };
  },
  undoSteps: ({ target, region }) => {
    const { resourceShareArn, principals } = parseResourceShareTarget(target);
    return [associate(resourceShareArn, region, principals)];
  },
});
