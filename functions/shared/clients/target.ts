import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { Target, TargetClients } from '../clients';
import { local, once, RETRY } from './core';

/**
 * Clients for the incident's target account, built only from the services a step calls. A handler
 * names them, each imported from its own module, so its bundle carries those SDK clients and no other:
 *
 *   import { iam } from '#shared/clients/iam';
 *   import { sts } from '#shared/clients/sts';
 *   responder: targetClients({ accountId }, { iam, sts }),
 *
 * A service the handler did not name throws UndeclaredServiceError when the step asks for it, in
 * Lambda and in the drill alike (the drill's simulated clients are narrowed the same way), so a
 * missing name fails the drill rather than a deployed function.
 */
export type TargetService = keyof TargetClients;

/** How one service's clients are made on one target account: what its factory module is handed. */
export interface TargetConnection {
  /** Client settings in a region: the retry settings, and the target's role when it has one. */
  settings(region: string): {
    maxAttempts: number;
    retryMode: 'adaptive';
    region: string;
    credentials?: ReturnType<typeof fromTemporaryCredentials>;
  };
  /** One client per service, account, role and region for a cold start. */
  once<T>(service: TargetService, region: string, make: () => T): T;
}

/** One service's factory (`clients/iam.ts` exports `iam`, ...): its `TargetClients` method on a connection. */
export type TargetServiceFactory<S extends TargetService> = (connection: TargetConnection) => TargetClients[S];

/** The services a step calls, each under its own name: `{ iam, sts }`. */
export type TargetServices<S extends TargetService> = { [K in S]: TargetServiceFactory<K> };

const SERVICES: readonly TargetService[] = [
  'iam',
  'sts',
  'cloudtrail',
  'account',
  'organizations',
  'guardduty',
  'events',
  'ec2',
  's3',
  's3control',
  'rds',
  'kms',
  'lambda',
  'ram',
];

/** A step asked for a target-account service its handler did not name: a defect of the handler, never retried. */
export class UndeclaredServiceError extends Error {
  constructor(readonly service: TargetService) {
    super(
      `The step called ${service} on the target account, but its handler did not name ${service} in targetClients(target, { ... }): add it there (its bundle then carries the client).`,
    );
    this.name = 'UndeclaredServiceError';
  }
}

/**
 * Through `target.roleArn` when given (a member account's read role), else with this function's own
 * role. IAM, Account and Organizations are served from us-east-1; STS is regional (AssumeRoot needs
 * a regional endpoint).
 */
function connect(target: Target): TargetConnection {
  const credentials = target.roleArn
    ? fromTemporaryCredentials({ params: { RoleArn: target.roleArn, RoleSessionName: 'root-responder', DurationSeconds: 900 } })
    : undefined;
  return {
    settings: (region) => ({ ...RETRY, region, ...(credentials ? { credentials } : {}) }),
    once: (service, region, make) => once(`${service}:${target.accountId}:${target.roleArn ?? ''}:${region}`, make),
  };
}

export function targetClients<S extends TargetService>(target: Target, services: TargetServices<S>): TargetClients {
  const factories = services as unknown as Partial<Record<TargetService, TargetServiceFactory<TargetService>>>;
  const simulated = local()?.target?.(target);
  const real = simulated ? undefined : connect(target);
  const clients: Partial<Record<TargetService, (...args: never[]) => unknown>> = {};
  for (const service of SERVICES) {
    const factory = factories[service];
    if (!factory) {
      clients[service] = () => {
        throw new UndeclaredServiceError(service);
      };
    } else if (simulated) {
      // eslint-disable-next-line @typescript-eslint/unbound-method -- the method is called with apply(simulated, ...) just below, so this is bound
      const method = simulated[service] as (...args: never[]) => unknown;
      clients[service] = (...args) => method.apply(simulated, args);
    } else {
      clients[service] = factory(real!);
    }
  }
  return clients as TargetClients;
}
