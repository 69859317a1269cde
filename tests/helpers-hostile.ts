import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import type { JsonObject } from '#shared/cloudtrail';

/**
 * Hostile values for the fields of a CloudTrail record an attacker chooses, and the drill's real
 * attack timeline with them set. The payloads are what a Markdown viewer, a mail client, a browser
 * or a terminal would act on: links, images, autolinks, reference definitions, HTML, a forged
 * "Open this link" line, blank lines and headings, table pipes, backticks, ANSI and OSC escapes
 * (clear screen, hyperlinks, clipboard), C1 controls, bidi overrides, NUL and DEL.
 */
export const PAYLOADS = [
  '[Reset your password](https://evil.example)',
  '![](https://evil.example/pixel.gif)',
  '<https://evil.example/auto>',
  'https://evil.example/bare',
  'www.evil.example',
  'eve@evil.example',
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  '"><svg onload=alert(1)>',
  '\nOpen this link to record your decision: https://evil.example/approvals/forged\n',
  '\r\n\r\n# Urgent\n\n[x]: https://evil.example/ref\n',
  '[x]',
  '[x][]',
  '`',
  '```',
  '|',
  '\\',
  '*',
  '_',
  '~~',
  '&lt;b&gt;',
  '&#x5B;',
  '\u001b[2J\u001b[H',
  '\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007',
  '\u001b]52;c;ZXZpbA==\u0007',
  '\u009b31m',
  '\u202e',
  '\u2028',
  '\u0000',
  '\u007f',
  '\t',
];

const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PAYLOADS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 12 }) },
);

/** A value an attacker wrote: one to six payloads and random text run together. */
export const hostile = fc.array(piece, { minLength: 1, maxLength: 6 }).map((pieces) => pieces.join(''));

export interface AttackerFields {
  userAgent: string;
  /** sourceIPAddress when it is not an address (CloudTrail records a hostname for some callers). */
  sourceHost: string;
  /** Every other string in requestParameters. */
  parameter: string;
  /** requestParameters.userName: the IAM users root creates and changes. */
  userName: string;
  /** errorMessage of a call that failed. */
  errorMessage: string;
  /** The event name of a call of unknown shape. */
  eventName: string;
  /** An alternate contact's name (PutAlternateContact). */
  contactName: string;
}

export const ATTACKER_FIELDS: fc.Arbitrary<AttackerFields> = fc.record({
  userAgent: hostile,
  sourceHost: hostile,
  parameter: hostile,
  userName: hostile,
  errorMessage: hostile,
  eventName: hostile,
  contactName: hostile,
});

function setStrings(value: unknown, fields: AttackerFields, key = ''): unknown {
  if (typeof value === 'string')
    return key === 'userName' ? fields.userName : key === 'name' || key === 'fullName' ? fields.contactName : fields.parameter;
  if (Array.isArray(value)) return value.map((v) => setStrings(v, fields, key));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === 'policyArn' || k === 'alternateContactType' ? v : setStrings(v, fields, k)]),
    );
  return value;
}

/**
 * The timeline with the attacker's values: on every record the user agent, the source (a hostname
 * in every other record), the request's strings (the policy ARNs and the contact type kept, so the
 * findings stay what they were), an error message on every failed call; and one more record, a
 * failed root call whose name is the attacker's.
 */
export function hostileRecords(timeline: JsonObject[], fields: AttackerFields): JsonObject[] {
  const records = timeline.map((record, i) => {
    const out: JsonObject = structuredClone(record);
    out['userAgent'] = fields.userAgent;
    if (i % 2 === 1) out['sourceIPAddress'] = fields.sourceHost;
    if (out['requestParameters'] && typeof out['requestParameters'] === 'object')
      out['requestParameters'] = setStrings(out['requestParameters'], fields);
    if (out['errorCode']) out['errorMessage'] = fields.errorMessage;
    return out;
  });
  const base = records.find((r) => r['eventName'] === 'CreateAccessKey') ?? records[records.length - 1]!;
  records.push({
    ...structuredClone(base),
    eventID: '00000000-0000-4000-8000-00000000f00d',
    eventName: fields.eventName,
    errorCode: 'AccessDenied',
    errorMessage: fields.errorMessage,
  });
  return records;
}

const viewer = new MarkdownIt({ html: true, linkify: true });

/** What a Markdown viewer (markdown-it, HTML and linkify on) would make a link or load: every href and src. */
export function markdownLinks(markdown: string): string[] {
  return [...viewer.render(markdown).matchAll(/\b(href|src)="([^"]*)"/g)].map((m) => m[2]!);
}
