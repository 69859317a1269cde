import { GetAlternateContactCommand, PutAlternateContactCommand, ResourceNotFoundException } from '@aws-sdk/client-account';
import { awsCall, AwsCallError, isAwsError } from '../errors';
import { asText } from '../text';
import { defineRemediation, type RemediationMeta } from './types';

type ContactType = 'BILLING' | 'OPERATIONS' | 'SECURITY';
const norm = (v: unknown) =>
  asText(v ?? '')
    .trim()
    .toLowerCase();

/** An alternate contact root changed, put back from the configured baseline (expectedAlternateContacts). */
export const restoreAlternateContactMeta: RemediationMeta<'restore-alternate-contact'> = {
  action: 'restore-alternate-contact',
  runsIn: 'target-account',
  permissions: { run: ['account:PutAlternateContact'], verify: ['account:GetAlternateContact'] },
  reversible: true,
  approvals: 1,
};

export const restoreAlternateContact = /* @__PURE__ */ defineRemediation(restoreAlternateContactMeta, {
  async run({ clients, target, baseline }) {
    const type = target as ContactType;
    const c = baseline.alternateContacts[type];
    if (!c?.emailAddress || !c.name || !c.title || !c.phoneNumber)
      return {
        status: 'skipped',
        detail: `No complete ${type} contact in the configured baseline (expectedAlternateContacts): nothing to restore from.`,
      };
    await awsCall('account:PutAlternateContact', () =>
      clients.account().send(
        new PutAlternateContactCommand({
          AlternateContactType: type,
          Name: c.name!,
          Title: c.title!,
          EmailAddress: c.emailAddress!,
          PhoneNumber: c.phoneNumber!,
        }),
      ),
    );
    return { status: 'done', detail: `Restored the ${type} alternate contact to ${c.emailAddress}.` };
  },
  async verify({ clients, target, baseline }) {
    const expected = baseline.alternateContacts[target as ContactType];
    let actual: string | undefined;
    try {
      const out = await awsCall('account:GetAlternateContact', () =>
        clients.account().send(new GetAlternateContactCommand({ AlternateContactType: target as ContactType })),
      );
      actual = out.AlternateContact?.EmailAddress;
    } catch (error) {
      // Unset: the Account API answers ResourceNotFoundException. Not restored: a failed check, not an error.
      if (!(error instanceof AwsCallError && isAwsError(error, ResourceNotFoundException))) throw error;
    }
    return actual !== undefined && norm(actual) === norm(expected?.emailAddress)
      ? { verified: true, reason: `The ${target} contact is ${expected?.emailAddress} again` }
      : { verified: false, reason: `The ${target} contact is ${actual ?? 'unset'}, not ${expected?.emailAddress ?? 'the baseline'}` };
  },
  undoSteps: ({ target }) => [
    `aws account put-alternate-contact --alternate-contact-type ${target} --name ... --title ... --email-address ... --phone-number ... (the values the evidence bundle recorded before)`,
  ],
});
