/**
 * A failure as responders read it in the incident report: what failed, and what to do instead.
 * Shared because two steps write it: the assessment (a containment that failed becomes an open
 * task) and the report itself.
 */

/** What a responder does when a step failed for good, by the kind of failure. */
export function whatToDoInstead(errorName: string): string {
  if (/AccessDenied|Unauthorized|AuthorizationError/.test(errorName)) {
    return "Allow that action to the function's role (or to the member role in that account), or do this step by hand in the console.";
  }
  if (/Transient|Throttl|Timeout|Timedout|ServiceUnavailable|InternalFailure|Lambda\.|Sandbox\./.test(errorName)) {
    return 'AWS kept failing or the step timed out after its retries: do this step by hand, or run the response again once AWS answers.';
  }
  return "Do this step by hand; the function's log for this incident id has the details.";
}

/**
 * A failure the state machine caught ({Error, Cause}; a Lambda's Cause is JSON with errorMessage),
 * or a step's own "Name: message" detail, as one line a responder can act on.
 */
export function failureReason(failure: { Error?: unknown; Cause?: unknown } | string | undefined): string {
  if (failure === undefined) return '';
  let name: string;
  let message: string;
  if (typeof failure === 'string') {
    const m = /^([A-Z][A-Za-z.]*(?:Error|Exception|Denied|Timeout|Timedout|Failure|Throttling)):\s*(.*)$/s.exec(failure);
    name = m?.[1] ?? '';
    message = m ? m[2]! : failure;
  } else {
    name = typeof failure.Error === 'string' ? failure.Error : 'Error';
    const cause = typeof failure.Cause === 'string' ? failure.Cause : '';
    try {
      const parsed = JSON.parse(cause) as { errorMessage?: unknown };
      message = typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
    } catch {
      message = cause;
    }
  }
  const what = `${name ? `${name}: ` : ''}${message}`.replace(/\s+/g, ' ').trim().slice(0, 300);
  return `${what}${what ? '. ' : ''}${whatToDoInstead(name)}`;
}
