import { z } from 'zod';

/**
 * CloudTrail records arrive in many containers and with many quirks (see
 * tests/fixtures/cloudtrail/README.md). Records are kept as loose JSON objects and read
 * through the accessors below, so a missing or odd field never throws: the strict schema only
 * decides whether a record is "parsed" or "unparsed".
 */
export type JsonObject = Record<string, unknown>;

export type CloudTrailRecord = JsonObject;

/** The fields a well-formed CloudTrail record has. Extra fields are expected (AWS adds them). */
export const CloudTrailRecordSchema = z.looseObject({
  eventVersion: z.string(),
  eventTime: z.string(),
  eventSource: z.string(),
  eventName: z.string().min(1),
  awsRegion: z.string(),
  eventID: z.string().min(1),
  userIdentity: z.looseObject({ type: z.string().optional() }),
});

/** An EventBridge event: the envelope around a CloudTrail record or a GuardDuty finding. */
/**
 * The same test as CloudTrailRecordSchema, written out: triage runs it on every record, and a
 * hand-written check is several times faster than a schema parse.
 */
export function isWellFormedRecord(record: JsonObject): boolean {
  const identity = record['userIdentity'];
  return (
    typeof record['eventVersion'] === 'string' &&
    typeof record['eventTime'] === 'string' &&
    typeof record['eventSource'] === 'string' &&
    typeof record['eventName'] === 'string' &&
    record['eventName'] !== '' &&
    typeof record['awsRegion'] === 'string' &&
    typeof record['eventID'] === 'string' &&
    record['eventID'] !== '' &&
    isObject(identity) &&
    (identity['type'] === undefined || typeof identity['type'] === 'string')
  );
}

export const EventBridgeEnvelopeSchema = z.looseObject({
  version: z.string().optional(),
  id: z.string(),
  'detail-type': z.string(),
  source: z.string(),
  account: z.string().regex(/^\d{12}$/),
  time: z.string(),
  region: z.string(),
  detail: z.looseObject({}),
});

export const GUARDDUTY_ROOT_FINDING = 'Policy:IAMUser/RootCredentialUsage';

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A LookupEvents entry's record (its CloudTrailEvent string): undefined when absent, not JSON or not an object. */
export function parseLookupEvent(raw: { CloudTrailEvent?: string | undefined }): JsonObject | undefined {
  if (!raw.CloudTrailEvent) return undefined;
  try {
    const parsed = JSON.parse(raw.CloudTrailEvent) as unknown;
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Any value as short text for a message, never throwing (objects without a prototype included). */
export function safeText(value: unknown, max = 80): string {
  if (typeof value === 'string') return value.slice(0, max);
  try {
    return (JSON.stringify(value) ?? typeof value).slice(0, max);
  } catch {
    return typeof value;
  }
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function obj(value: unknown): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

/** Does this object look like an EventBridge envelope (detail plus detail-type or source)? */
export function looksLikeEnvelope(value: JsonObject): boolean {
  return isObject(value['detail']) && ('detail-type' in value || 'source' in value);
}

/** Does this EventBridge envelope carry a GuardDuty root-credential-usage finding? */
export function isGuardDutyRootFinding(envelope: JsonObject): boolean {
  const detail = obj(envelope['detail']);
  return str(detail?.['type']) === GUARDDUTY_ROOT_FINDING;
}

/** One record found in a document, with where it came from (for error messages). */
export interface ExtractedRecord {
  record: CloudTrailRecord;
  origin: string;
  /** The EventBridge envelope around the record, when there was one. */
  envelope?: JsonObject;
}

/** One element of a document that is not a CloudTrail record. */
export interface ExtractionProblem {
  origin: string;
  message: string;
}

/**
 * Every CloudTrail record in a document: a bare record, an EventBridge event, a CloudTrail log
 * file `{"Records": [...]}`, a LookupEvents response `{"Events": [...]}` (CloudTrailEvent is a
 * JSON string), or an array of any of these. Elements that are not records become problems;
 * the rest are still returned.
 */
export function extractRecords(doc: unknown, origin: string): { records: ExtractedRecord[]; problems: ExtractionProblem[] } {
  const records: ExtractedRecord[] = [];
  const problems: ExtractionProblem[] = [];
  const visit = (value: unknown, where: string, depth: number): void => {
    if (depth > 4) {
      problems.push({ origin: where, message: 'nested too deeply to be CloudTrail input' });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${where}[${i}]`, depth + 1));
      return;
    }
    if (!isObject(value)) {
      problems.push({ origin: where, message: `expected a JSON object, got ${value === null ? 'null' : typeof value}` });
      return;
    }
    if (Array.isArray(value['Records'])) {
      value['Records'].forEach((item, i) => visit(item, `${where}.Records[${i}]`, depth + 1));
      return;
    }
    if (Array.isArray(value['Events'])) {
      value['Events'].forEach((item, i) => {
        const at = `${where}.Events[${i}]`;
        const inner = isObject(item) ? item['CloudTrailEvent'] : undefined;
        if (typeof inner === 'string') {
          try {
            visit(JSON.parse(inner), `${at}.CloudTrailEvent`, depth + 1);
          } catch {
            problems.push({ origin: at, message: 'CloudTrailEvent is not valid JSON' });
          }
        } else if (isObject(inner)) {
          visit(inner, `${at}.CloudTrailEvent`, depth + 1);
        } else {
          problems.push({ origin: at, message: 'LookupEvents entry has no CloudTrailEvent' });
        }
      });
      return;
    }
    if (looksLikeEnvelope(value)) {
      const detail = value['detail'] as JsonObject;
      if ('eventName' in detail) {
        records.push({ record: detail, origin: `${where}.detail`, envelope: value });
      } else if (isGuardDutyRootFinding(value)) {
        problems.push({ origin: where, message: 'a GuardDuty finding, not a CloudTrail record (intake handles it)' });
      } else {
        problems.push({ origin: where, message: 'EventBridge event whose detail is not a CloudTrail record (no eventName)' });
      }
      return;
    }
    if ('eventName' in value) {
      records.push({ record: value, origin: where });
      return;
    }
    if ('userIdentity' in value || 'eventVersion' in value || 'eventSource' in value) {
      problems.push({ origin: where, message: 'CloudTrail record without eventName' });
      return;
    }
    problems.push({
      origin: where,
      message: 'unknown shape: not a CloudTrail record, EventBridge event, log file or LookupEvents response',
    });
  };
  visit(doc, origin, 0);
  return { records, problems };
}

// ---- accessors: tolerant reads of the fields triage needs ----

export function identity(record: CloudTrailRecord): JsonObject {
  return obj(record['userIdentity']) ?? {};
}

export function identityType(record: CloudTrailRecord): string | undefined {
  return str(identity(record)['type']);
}

export function eventName(record: CloudTrailRecord): string {
  return str(record['eventName']) ?? '';
}

export function eventSource(record: CloudTrailRecord): string {
  return str(record['eventSource']) ?? '';
}

export function accountIdOf(record: CloudTrailRecord, envelope?: JsonObject): string | undefined {
  const candidates = [record['recipientAccountId'], identity(record)['accountId'], envelope?.['account']];
  for (const c of candidates) {
    if (typeof c === 'string' && c.length > 0) return c;
    if (typeof c === 'number') return String(c);
  }
  return undefined;
}

/** Root identity: userIdentity.type "Root"; with no type at all, an ARN ending in ":root". */
export function isRootIdentity(record: CloudTrailRecord): boolean {
  const type = identityType(record);
  if (type !== undefined) return type.toLowerCase() === 'root';
  const arn = str(identity(record)['arn']);
  return arn !== undefined && /^arn:aws[a-z-]*:iam::\d*:root$/.test(arn);
}

/** MFA on a sign-in: true, false, or undefined when the record does not say. */
export function mfaUsed(record: CloudTrailRecord): boolean | undefined {
  const sources = [
    obj(record['additionalEventData']),
    obj(obj(obj(record['serviceEventDetails'])?.['consoleLogin'])?.['additionalEventData']),
  ];
  for (const data of sources) {
    if (!data) continue;
    const flag = str(data['MFAUsed']);
    if (flag !== undefined) {
      if (flag.toLowerCase() === 'yes') return true;
      if (flag.toLowerCase() === 'no') return false;
    }
    if (str(data['MFAIdentifier']) || str(data['MfaType'])) return true;
  }
  const ctx = obj(obj(identity(record)['sessionContext'])?.['attributes']);
  const authenticated = str(ctx?.['mfaAuthenticated']);
  if (authenticated !== undefined) return authenticated.toLowerCase() === 'true';
  return undefined;
}

/** The outcome of a sign-in event: success, failure or unknown (placeholder or missing values). */
export function signInOutcome(record: CloudTrailRecord): 'success' | 'failure' | 'unknown' {
  const name = eventName(record);
  const responses = [obj(record['responseElements']), obj(obj(obj(record['serviceEventDetails'])?.['consoleLogin'])?.['responseElements'])];
  for (const response of responses) {
    const value = str(response?.[name]) ?? str(response?.['ConsoleLogin']);
    if (value?.toLowerCase() === 'success') return 'success';
    if (value?.toLowerCase() === 'failure') return 'failure';
  }
  if (str(record['errorMessage']) || str(record['errorCode'])) return 'failure';
  return 'unknown';
}

const READ_ONLY_NAME =
  /^(Get|List|Describe|Lookup|Head|Search|Check|Query|Scan|BatchGet|Select|Validate|View|Filter|Preview|Estimate)[A-Z]?/;

/** readOnly from the record; older records lack it (or carry a string), then judged by name. */
export function isReadOnly(record: CloudTrailRecord): boolean {
  const flag = record['readOnly'];
  if (typeof flag === 'boolean') return flag;
  if (typeof flag === 'string' && (flag === 'true' || flag === 'false')) return flag === 'true';
  return READ_ONLY_NAME.test(eventName(record));
}

/** The error code of a failed call, if any. */
export function errorCodeOf(record: CloudTrailRecord): string | undefined {
  return str(record['errorCode']);
}

/** The access key id the caller used (ASIA... session, AKIA... long-term key), if recorded. */
export function callerAccessKeyId(record: CloudTrailRecord): string | undefined {
  const id = str(identity(record)['accessKeyId']);
  return id && id.length > 0 ? id : undefined;
}
