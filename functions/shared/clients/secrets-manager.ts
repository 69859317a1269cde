import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type ResponderDirectory, SecretsManagerDirectory } from '../responders';
import { local, once, RETRY } from './core';

/** The enrolled responders, from the Secrets Manager secret that holds their TOTP secrets. */
export function respondersDirectory(secretId: string): ResponderDirectory {
  const drill = local();
  if (drill?.responders) return drill.responders;
  return once(`responders:${secretId}`, () => new SecretsManagerDirectory(new SecretsManagerClient({ ...RETRY }), secretId));
}
