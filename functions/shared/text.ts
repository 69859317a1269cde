/**
 * Text from events (CloudTrail fields an attacker chooses: userAgent, a sourceIPAddress that is a
 * hostname, requestParameters, user names, error messages, event names of unknown shapes) and every
 * string built from them, as each output format must carry it. One rule per format, applied to the
 * whole value at the point where it is written, never to our own structure around it:
 *
 * - report.md: `markdownCode`, a code span (nothing inside a code span is a link, an image, HTML
 *   or an autolink).
 * - report.html: `escapeHtml` (./html.ts).
 * - email bodies: `emailText`, one line, no control characters, URLs defanged (`https[:]//`), so
 *   no event value starts a line of its own or becomes a link where ours stands.
 * - terminal output (the drill, the command line): `terminalText` shows every control, escape and
 *   direction-changing character visibly (`\x1b`, `\u202e`); `terminalJson` the same for a JSON line.
 */

/**
 * String(value) for untyped JSON fields (CloudTrail records, SDK inputs, policy statements). They are
 * strings or numbers in practice; an object renders as '[object Object]', exactly as String() always did.
 */
export function asText(value: unknown): string {
  return String(value);
}

/**
 * Characters no output shows raw: C0 controls (line breaks and ESC included), DEL, C1 controls (0x9b
 * is CSI on 8-bit terminals), the line and paragraph separators, zero-width and byte-order marks, and
 * the bidirectional controls that reorder what a reader sees (Trojan Source).
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu;

/** True when the text holds a character `CONTROL` covers. */
export function hasControlCharacters(text: string): boolean {
  CONTROL.lastIndex = 0;
  const found = CONTROL.test(text);
  CONTROL.lastIndex = 0;
  return found;
}

function visible(ch: string): string {
  const code = ch.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** For a terminal: every control and escape character shown as `\xNN` / `\uNNNN`, nothing else changed. */
export function terminalText(value: unknown): string {
  return asText(value ?? '').replace(CONTROL, visible);
}

/**
 * JSON for a terminal: JSON.stringify already writes C0 controls as `\uNNNN`; DEL, C1 and the
 * invisible and direction controls are written so too. The line parses to the same value.
 */
export function terminalJson(value: unknown, space?: number): string {
  // A raw C0 character in JSON.stringify's output is its own indentation (strings have them escaped).
  return JSON.stringify(value, null, space).replace(CONTROL, (ch) =>
    ch === '\n' ? ch : `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
}

/**
 * For an email body: one line (every control character and whitespace run becomes one space), and
 * URLs defanged: `https://x` -> `https[:]//x`, `www.x` -> `www[.]x`, so a mail client links nothing
 * an event wrote. A link from us is written by us, on its own line, never through this function.
 */
export function emailText(value: unknown): string {
  return asText(value ?? '')
    .replace(CONTROL, ' ')
    .replace(/\s+/gu, ' ')
    .replace(/([a-z][a-z0-9+.-]*):(\/|\\){2}/giu, '$1[:]//')
    .replace(/\b(www)\./giu, '$1[.]')
    .trim();
}

/**
 * A whole email body as the last safety net (`publish` applies it): our line breaks stay, every
 * other control character becomes a space. Values from events still go through `emailText`, which
 * also keeps them from making lines of their own.
 */
export function emailBody(body: string): string {
  return body
    .split('\n')
    .map((line) => line.replace(CONTROL, ' '))
    .join('\n');
}

/**
 * For report.md: the value as one code span. Control characters and line breaks become spaces (a
 * blank line would end the span); the fence is one backtick longer than the longest run inside.
 * In a table cell (`cell`), `|` becomes `¦`: GFM splits a row at a pipe before it reads code spans,
 * and an escaped pipe after a backslash would still split it.
 */
export function markdownCode(value: unknown, options: { cell?: boolean } = {}): string {
  let text = asText(value ?? '')
    .replace(CONTROL, ' ')
    .replace(/\s+/gu, ' ');
  if (options.cell) text = text.replace(/\|/g, '¦');
  if (text === '') return '` `';
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || text.startsWith(' ') || text.endsWith(' ') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A value as part of an id: lower-case letters, digits and dashes, at most 60 characters (finding ids). */
export function slug(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);
}
