/**
 * Quarantining an IAM user root created during the incident: a deny-all inline policy under this
 * name (its active access keys are deactivated and its console password deleted beside it). Run
 * Approved Action attaches it; Verify Human Task checks it is there: both steps use this one name.
 */
export const QUARANTINE_POLICY_NAME = 'root-responder-quarantine';

/** The inline policy attached under QUARANTINE_POLICY_NAME. */
export const QUARANTINE_POLICY_DOCUMENT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'RootResponderQuarantine', Effect: 'Deny', Action: '*', Resource: '*' }],
});
