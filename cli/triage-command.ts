import { readFile } from 'node:fs/promises';
import { type ExtractedRecord, type ExtractionProblem, extractRecords } from '#shared/cloudtrail';
import { ConfigError } from '#shared/errors';
import { defaultTriageContext, triage } from '#shared/triage';
import { terminalJson, terminalText } from '#shared/text';

export interface CommandIO {
  /** True when stdout is a terminal: colour, and the drill waits for a person by default. */
  isTTY?: boolean;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  readStdin: () => Promise<string>;
}

/** A file or document given to the command line could not be read as CloudTrail input. */
export class TriageInputError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
    this.name = 'TriageInputError';
  }
}

/** Parse JSON text into records; text that is not JSON is a TriageInputError. */
export function parseRecords(text: string, origin: string): { records: ExtractedRecord[]; problems: ExtractionProblem[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new TriageInputError(origin, `not JSON (${(error as Error).message})`);
  }
  return extractRecords(doc, origin);
}

/**
 * `root-responder triage [--known-cidrs CIDR,...] [FILE...]`: one JSON line per record.
 * Bad input names the file and what is wrong on stderr; other files are still processed; exit 2.
 */
export async function triageCommand(args: string[], io: CommandIO): Promise<number> {
  const files: string[] = [];
  let cidrs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--known-cidrs') {
      cidrs = (args[++i] ?? '')
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean);
    } else if (arg.startsWith('--known-cidrs=')) {
      cidrs = arg
        .slice('--known-cidrs='.length)
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean);
    } else if (arg === '-') {
      files.push('-');
    } else if (arg.startsWith('-')) {
      io.stderr(`triage: unknown option ${terminalText(arg)} (see --help)`);
      return 2;
    } else {
      files.push(arg);
    }
  }
  let ctx;
  try {
    ctx = defaultTriageContext(cidrs);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`triage: --known-cidrs: ${terminalText(error.message)}`);
      return 2;
    }
    throw error;
  }
  if (files.length === 0) files.push('-');
  let bad = false;
  for (const file of files) {
    const name = file === '-' ? '<stdin>' : file;
    let text: string;
    try {
      text = file === '-' ? await io.readStdin() : await readFile(file, 'utf8');
    } catch (error) {
      io.stderr(`${terminalText(name)}: cannot read (${terminalText((error as NodeJS.ErrnoException).code ?? (error as Error).message)})`);
      bad = true;
      continue;
    }
    try {
      const { records, problems } = parseRecords(text, name);
      for (const { record, envelope } of records) io.stdout(terminalJson(triage(record, ctx, envelope)));
      for (const problem of problems) {
        io.stderr(`${terminalText(problem.origin)}: ${terminalText(problem.message)}`);
        bad = true;
      }
    } catch (error) {
      if (!(error instanceof TriageInputError)) throw error;
      io.stderr(terminalText(error.message));
      bad = true;
    }
  }
  return bad ? 2 : 0;
}
