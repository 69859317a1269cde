import type { JsonObject } from '#shared/cloudtrail';

/**
 * The simulated account's grants and permissions: KMS grants, Lambda resource policies and function
 * URL configs, RAM shares and their principals. Like the EC2 state, it is built from the account's own
 * CloudTrail records (a grant created, a permission added, a URL opened, a share made), applied as the
 * records arrive, and it answers the calls the undos make with each service's error codes (KMS
 * NotFoundException, Lambda ResourceNotFoundException, RAM UnknownResourceException and
 * InvalidParameterException); the simulated account raises them as the SDK's own classes.
 */

export interface SimGrantsRegion {
  /** KMS grants by grant id; `KeyId` is the key ARN. */
  kmsGrants: Record<
    string,
    {
      KeyId: string;
      GrantId: string;
      GranteePrincipal: string;
      RetiringPrincipal?: string;
      Operations: string[];
      Name?: string;
      Constraints?: JsonObject;
    }
  >;
  /** Key ids (the last part of the ARN) the records named. */
  keys: string[];
  /** Lambda functions by name: their resource-policy statements and function URL, if any. */
  functions: Record<string, { statements: JsonObject[]; url?: { FunctionUrl: string; AuthType: string } }>;
  /** RAM resource shares by ARN: each principal's association status. */
  shares: Record<string, { name: string; principals: Record<string, 'ASSOCIATED' | 'DISASSOCIATED'> }>;
}

/** How the simulated account raises a service error (its SimError, turned into the SDK's class when it leaves). */
export type Fail = (name: string, message: string, status?: number) => Error;

/** The key id a KeyId names (a key id or a key ARN; aliases are not accepted by these calls). */
const keyIdOf = (keyId: string) => keyId.replace(/^arn:aws[a-z-]*:kms:[^:]*:\d{12}:key\//, '');
/** The function name a FunctionName names (a name, a partial or full ARN). */
const functionOf = (name: string) => name.replace(/^(arn:aws[a-z-]*:lambda:[^:]*:)?(\d{12}:)?(function:)?/, '').split(':')[0]!;

const asObject = (v: unknown): JsonObject => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : {});
const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
const texts = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** What one CloudTrail record did to the grants and permissions (a failed call changed nothing). */
export function applyGrantsRecord(s: SimGrantsRegion, r: JsonObject, accountId: string, region: string): void {
  if (r['errorCode']) return;
  const p = asObject(r['requestParameters']);
  const res = asObject(r['responseElements']);
  const name = text(r['eventName']) ?? '';
  const fn = () => (s.functions[functionOf(text(p['functionName']) ?? '?')] ??= { statements: [] });
  switch (r['eventSource']) {
    case 'kms.amazonaws.com': {
      const key = text(res['keyId']) ?? text(p['keyId']);
      if (!key) return;
      const id = keyIdOf(key);
      if (!s.keys.includes(id)) s.keys.push(id);
      const arn = key.startsWith('arn:') ? key : `arn:aws:kms:${region}:${accountId}:key/${id}`;
      if (name === 'CreateGrant' && text(res['grantId']))
        s.kmsGrants[text(res['grantId'])!] = {
          KeyId: arn,
          GrantId: text(res['grantId'])!,
          GranteePrincipal: text(p['granteePrincipal']) ?? '?',
          ...(text(p['retiringPrincipal']) ? { RetiringPrincipal: text(p['retiringPrincipal'])! } : {}),
          Operations: texts(p['operations']),
          ...(text(p['name']) ? { Name: text(p['name'])! } : {}),
          ...(r['requestParameters'] && p['constraints'] ? { Constraints: asObject(p['constraints']) } : {}),
        };
      if ((name === 'RevokeGrant' || name === 'RetireGrant') && text(p['grantId'])) delete s.kmsGrants[text(p['grantId'])!];
      return;
    }
    case 'lambda.amazonaws.com': {
      if (/^CreateFunction(?!Url)/.test(name)) fn();
      else if (name.startsWith('AddPermission')) {
        let statement: JsonObject | undefined;
        try {
          statement = asObject(JSON.parse(text(res['statement']) ?? 'null'));
        } catch {
          statement = undefined;
        }
        const sid = text(p['statementId']) ?? '?';
        const f = fn();
        f.statements = f.statements.filter((x) => x['Sid'] !== sid);
        f.statements.push(
          statement && statement['Sid']
            ? statement
            : {
                Sid: sid,
                Effect: 'Allow',
                Principal: text(p['principal']) === '*' ? '*' : { AWS: text(p['principal']) ?? '?' },
                Action: text(p['action']) ?? '?',
                Resource: `arn:aws:lambda:${region}:${accountId}:function:${functionOf(text(p['functionName']) ?? '?')}`,
              },
        );
      } else if (name.startsWith('RemovePermission')) {
        const f = fn();
        f.statements = f.statements.filter((x) => x['Sid'] !== text(p['statementId']));
      } else if (/^(Create|Update)FunctionUrlConfig/.test(name)) {
        const f = fn();
        const url =
          text(res['functionUrl']) ??
          f.url?.FunctionUrl ??
          `https://${functionOf(text(p['functionName']) ?? 'f')}.lambda-url.${region}.on.aws/`;
        f.url = { FunctionUrl: url, AuthType: text(p['authType']) ?? text(res['authType']) ?? f.url?.AuthType ?? 'AWS_IAM' };
      } else if (name.startsWith('DeleteFunctionUrlConfig')) delete fn().url;
      return;
    }
    case 'ram.amazonaws.com': {
      const arn = text(asObject(res['resourceShare'])['resourceShareArn']) ?? text(p['resourceShareArn']);
      if (!arn) return;
      const share = (s.shares[arn] ??= { name: text(p['name']) ?? arn.split('/').pop()!, principals: {} });
      const status = name === 'DisassociateResourceShare' ? 'DISASSOCIATED' : 'ASSOCIATED';
      if (['CreateResourceShare', 'AssociateResourceShare', 'DisassociateResourceShare'].includes(name))
        for (const principal of texts(p['principals'])) share.principals[principal] = status;
      return;
    }
    default:
  }
}

/** The KMS, Lambda and RAM calls the grant undos make, as each service answers them. */
export function grantsCall(
  s: SimGrantsRegion,
  ctx: { accountId: string; region: string; fail: Fail; change: (what: string, target: string) => void },
  name: string,
  input: Record<string, unknown>,
): unknown {
  const { accountId, region, fail, change } = ctx;
  const key = () => {
    const id = keyIdOf(text(input['KeyId']) ?? '');
    if (!s.keys.includes(id)) throw fail('NotFoundException', `Key 'arn:aws:kms:${region}:${accountId}:key/${id}' does not exist`);
    return id;
  };
  const fn = () => {
    const f = functionOf(text(input['FunctionName']) ?? '');
    const found = s.functions[f];
    if (!found) throw fail('ResourceNotFoundException', `Function not found: arn:aws:lambda:${region}:${accountId}:function:${f}`, 404);
    return { name: f, f: found };
  };
  const share = () => {
    const arn = text(input['resourceShareArn']) ?? '';
    if (!arn.startsWith('arn:')) throw fail('MalformedArnException', `The format of ARN ${arn} is not valid.`);
    const found = s.shares[arn];
    if (!found) throw fail('UnknownResourceException', `ResourceShare ${arn} could not be found.`);
    return { arn, share: found };
  };
  switch (name) {
    case 'ListGrantsCommand': {
      const id = key();
      const grants = Object.values(s.kmsGrants).filter(
        (g) => keyIdOf(g.KeyId) === id && (input['GrantId'] === undefined || g.GrantId === input['GrantId']),
      );
      return { Grants: grants, Truncated: false };
    }
    case 'RevokeGrantCommand': {
      const id = key();
      const grant = s.kmsGrants[String(input['GrantId'])];
      if (!grant || keyIdOf(grant.KeyId) !== id) throw fail('NotFoundException', `Grant ID ${String(input['GrantId'])} not found`);
      delete s.kmsGrants[grant.GrantId];
      change('kms-revoke-grant', `${id}/${grant.GrantId}`);
      return {};
    }
    case 'GetPolicyCommand': {
      const { f } = fn();
      if (f.statements.length === 0) throw fail('ResourceNotFoundException', 'The resource you requested does not exist.', 404);
      return { Policy: JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: f.statements }), RevisionId: 'r1' };
    }
    case 'RemovePermissionCommand': {
      const { name: f, f: found } = fn();
      const sid = String(input['StatementId']);
      if (!found.statements.some((x) => x['Sid'] === sid))
        throw fail('ResourceNotFoundException', `Statement ${sid} is not found in resource policy.`, 404);
      found.statements = found.statements.filter((x) => x['Sid'] !== sid);
      change('lambda-remove-permission', `${f}/${sid}`);
      return {};
    }
    case 'GetFunctionUrlConfigCommand':
    case 'UpdateFunctionUrlConfigCommand': {
      const { name: f, f: found } = fn();
      if (!found.url) throw fail('ResourceNotFoundException', 'The resource you requested does not exist.', 404);
      if (name === 'UpdateFunctionUrlConfigCommand') {
        const auth = input['AuthType'];
        if (auth !== undefined && auth !== 'NONE' && auth !== 'AWS_IAM')
          throw fail(
            'ValidationException',
            `1 validation error detected: Value '${text(auth) ?? '?'}' at 'authType' failed to satisfy constraint`,
          );
        if (auth !== undefined && auth !== found.url.AuthType) {
          found.url.AuthType = auth;
          change('lambda-function-url-auth', `${f}/${auth}`);
        }
      }
      return {
        FunctionUrl: found.url.FunctionUrl,
        FunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${f}`,
        AuthType: found.url.AuthType,
        CreationTime: '2019-01-01T00:00:00.000+0000',
        LastModifiedTime: '2019-01-01T00:00:00.000+0000',
      };
    }
    case 'GetResourceShareAssociationsCommand': {
      const type = input['associationType'];
      if (type !== 'PRINCIPAL' && type !== 'RESOURCE')
        throw fail(
          'InvalidParameterException',
          `${String(type)} is not a valid association type. Specify either PRINCIPAL or RESOURCE and try again.`,
        );
      const arns = (input['resourceShareArns'] ?? []) as string[];
      for (const arn of arns) if (!s.shares[arn]) throw fail('UnknownResourceException', `ResourceShare ${arn} could not be found.`);
      if (type === 'RESOURCE') return { resourceShareAssociations: [] };
      return {
        resourceShareAssociations: Object.entries(s.shares)
          .filter(([arn]) => arns.length === 0 || arns.includes(arn))
          .flatMap(([arn, sh]) =>
            Object.entries(sh.principals).map(([principal, status]) => ({
              resourceShareArn: arn,
              resourceShareName: sh.name,
              associatedEntity: principal,
              associationType: 'PRINCIPAL',
              status,
              external: !principal.includes(accountId),
            })),
          ),
      };
    }
    case 'DisassociateResourceShareCommand': {
      const { arn, share: found } = share();
      const principals = (input['principals'] ?? []) as string[];
      const unknown = principals.filter((p) => !found.principals[p]);
      if (unknown.length)
        throw fail('InvalidParameterException', `The principal ${unknown[0]} is not associated with resource share ${arn}.`);
      for (const p of principals)
        if (found.principals[p] !== 'DISASSOCIATED') {
          found.principals[p] = 'DISASSOCIATED';
          change('ram-disassociate', `${arn}/${p}`);
        }
      return {
        resourceShareAssociations: principals.map((p) => ({
          resourceShareArn: arn,
          associatedEntity: p,
          associationType: 'PRINCIPAL',
          status: 'DISASSOCIATING',
        })),
      };
    }
    default:
      throw fail('UnsupportedOperation', `The simulated account does not implement ${name}`);
  }
}

/** The commands grantsCall answers and the IAM action each needs. */
export const GRANTS_COMMAND_ACTIONS: Record<string, string> = {
  ListGrantsCommand: 'kms:ListGrants',
  RevokeGrantCommand: 'kms:RevokeGrant',
  GetPolicyCommand: 'lambda:GetPolicy',
  RemovePermissionCommand: 'lambda:RemovePermission',
  GetFunctionUrlConfigCommand: 'lambda:GetFunctionUrlConfig',
  UpdateFunctionUrlConfigCommand: 'lambda:UpdateFunctionUrlConfig',
  GetResourceShareAssociationsCommand: 'ram:GetResourceShareAssociations',
  DisassociateResourceShareCommand: 'ram:DisassociateResourceShare',
};
