import {
  OrganizationNotFoundException,
  OrganizationNotInAllFeaturesModeException,
  ServiceAccessNotEnabledException,
} from '@aws-sdk/client-iam';
import { isAwsError } from './errors';

/**
 * Centralized root access management (IAM > Root access management), as iam:ListOrganizationsFeatures
 * reports it. Besides the features it lists, the IAM API Reference documents errors that mean the
 * organization cannot have it on at all, which is the same finding: root credentials of member
 * accounts cannot be removed from outside them.
 * - ServiceAccessNotEnabledException: trusted access for IAM is not enabled in AWS Organizations
 *   (the usual state of an organization that never turned centralized root access on);
 * - OrganizationNotInAllFeaturesModeException: the organization has consolidated billing only;
 * - OrganizationNotFoundException: no organization is associated with the account.
 * (AccountNotManagementOrDelegatedAdministratorException is about where the responder runs, not the
 * organization: it stays an error.)
 */
export function rootAccessUnavailable(error: unknown): string | undefined {
  if (isAwsError(error, ServiceAccessNotEnabledException))
    return 'trusted access for IAM is not enabled in AWS Organizations (ServiceAccessNotEnabledException)';
  if (isAwsError(error, OrganizationNotInAllFeaturesModeException))
    return 'the organization does not have all features enabled (OrganizationNotInAllFeaturesModeException)';
  if (isAwsError(error, OrganizationNotFoundException)) return 'IAM finds no organization for this account (OrganizationNotFoundException)';
  return undefined;
}

/** How to turn centralized root access on. */
export const ENABLE_ROOT_ACCESS =
  'In the management account: IAM > Root access management > Enable, with both "Root credentials management" and "Privileged root actions in member accounts" (the console turns on trusted access for IAM in AWS Organizations; by API: organizations:EnableAWSServiceAccess for iam.amazonaws.com, then iam:EnableOrganizationsRootCredentialsManagement and iam:EnableOrganizationsRootSessions). The organization needs all features enabled.';
