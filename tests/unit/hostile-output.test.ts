import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import type { ApprovalStore } from '#shared/approval-store';
import { extractRecords } from '#shared/cloudtrail';
import { fixedClock } from '#shared/clock';
import { EvidenceBundle, type ObjectReader, type ObjectWriter } from '#shared/evidence';
import { classifyWindow } from '#shared/findings';
import { IncidentStore } from '#shared/incident-store';
import { knownSources } from '#shared/known-sources';
import { memoryLog } from '#shared/logger';
import { OwnSessionStore } from '#shared/own-session-store';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import { taskDetails } from '#shared/plan';
import { hasControlCharacters } from '#shared/text';
import { defaultTriageContext, triage } from '#shared/triage';
import type { ExecutionInput } from '#shared/contracts/execution-input';
import type { ReportInput } from '#shared/contracts/workflow-state';
import { assessIncident } from '#functions/assess-incident/assess-incident';
import { escalateTask } from '#functions/escalate-task/escalate-task';
import { intake } from '#functions/intake/intake';
import { notifyResponders } from '#functions/notify-responders/notify-responders';
import { reportFailure } from '#functions/report-failure/report-failure';
import { requestApproval } from '#functions/request-approval/request-approval';
import { renderHtml } from '#functions/write-incident-report/render-html';
import { renderMarkdown } from '#functions/write-incident-report/render-markdown';
import {
  buildReport,
  type IncidentReport,
  readReportInputs,
  writeIncidentReport,
} from '#functions/write-incident-report/write-incident-report';
import { main } from '#cli/main';
import { toEventBridge } from '#drill/envelope';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';
import { PROJECT_ROOT } from '#drill/deployment';
import { containment, evidenceCollection, rootSnapshot } from '../helpers-state';
import { ATTACKER_FIELDS, hostileRecords, markdownLinks, type AttackerFields } from '../helpers-hostile';

/**
 * Output carries no attacker markup. The fields of a CloudTrail record an attacker chooses
 * (userAgent, a sourceIPAddress that is a hostname, requestParameters, user names, error messages,
 * the event name of an unknown call, a contact's name) are generated with fast-check from Markdown,
 * HTML, URL, line-break and terminal-escape payloads, set on the drill's real attack timeline, and
 * driven through the real code: triage, the findings, the assessment and its plan, intake's alert,
 * the summary, the approval request, the escalation, the report (report.md, report.html, its email)
 * and the failure report, and the command line's output.
 */
const snsMock = mockClient(SNSClient);
const sfnMock = mockClient(SFNClient);
const clock = fixedClock('2024-03-04T12:00:00Z');
const APPROVALS = 'https://approvals.example';
const LOCATION = 'mem://incident/';

const DATA = join(PROJECT_ROOT, 'scenarios', 'data');
const TIMELINE = [
  'panther_scenario__compromised_root_creds__attacker_cloudtrail.json',
  'root_deactivate_mfa_put_security_contact_stoplogging_eu_west_1__written.json',
].flatMap((file) => extractRecords(JSON.parse(readFileSync(join(DATA, file), 'utf8')), file).records.map((r) => r.record));

/** An incident's folder in memory, as the steps write it under incidents/<id>/. */
function memoryFolder() {
  const files = new Map<string, string>();
  const writer = (prefix = ''): ObjectWriter => ({
    location: `${LOCATION}${prefix}`,
    write: (path, body) => {
      files.set(`${prefix}${path}`, body.toString('utf8'));
      return Promise.resolve(`v-${prefix}${path}`.replace(/[^A-Za-z0-9.]/g, '_'));
    },
  });
  const reader = (prefix = ''): ObjectReader => ({
    read: (path) => {
      const body = files.get(`${prefix}${path}`);
      return body === undefined
        ? Promise.reject(Object.assign(new Error(`${path} not found`), { name: 'NoSuchKey' }))
        : Promise.resolve(Buffer.from(body));
    },
  });
  return { files, writer, reader };
}

interface Run {
  emails: { subject: string; body: string }[];
  report: IncidentReport;
  markdown: string;
  html: string;
}

/** One incident of the hostile timeline through every step that writes for people. */
async function respond(fields: AttackerFields): Promise<Run> {
  snsMock.reset();
  sfnMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
  sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:aws:states:us-east-1:1:execution:m:n', startDate: new Date() });
  const records = hostileRecords(TIMELINE, fields);
  const ctx = defaultTriageContext([]);
  const signIn = records.find((r) => r['eventName'] === 'ConsoleLogin' && JSON.stringify(r['responseElements']).includes('Success'))!;

  // Intake: the first alert.
  const ddb = new SimulatedDynamoDb();
  const log = memoryLog();
  const opened = await intake(toEventBridge(signIn), {
    store: new IncidentStore(ddb as never, 'incidents'),
    ownSessions: new OwnSessionStore(ddb as never, 'incidents'),
    pipeline: new PipelineHealthStore(ddb as never, 'incidents'),
    sfn: new SFNClient({ region: 'us-east-1' }),
    sns: new SNSClient({ region: 'us-east-1' }),
    clock,
    log,
    config: {
      stateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:m',
      alertTopicArn: 'arn:aws:sns:us-east-1:1:a',
      knownSources: knownSources([]),
      settings: { approvalWaitSeconds: 3600, maxReminders: 3 },
    },
  });
  expect(opened.outcome).toBe('opened');

  // Evidence as Collect Evidence writes it: the window's findings and sign-ins.
  const folder = memoryFolder();
  const classified = classifyWindow(
    records.map((record) => ({
      region: typeof record['awsRegion'] === 'string' ? record['awsRegion'] : 'us-east-1',
      record,
      query: 'root',
    })),
    ctx,
  );
  folder.files.set('evidence/findings.json', JSON.stringify({ findings: classified.findings, remediations: classified.remediations }));
  folder.files.set(
    'evidence/sign-ins.json',
    JSON.stringify([
      {
        at: '2024-03-04T11:00:00Z',
        eventId: 'e1',
        sourceIPAddress: fields.sourceHost,
        userAgent: fields.userAgent,
        outcome: 'success',
        mfa: false,
        knownSource: false,
      },
    ]),
  );
  folder.files.set('verification/late-findings.json', '[]');
  const input: ExecutionInput = {
    incidentId: '123456789012-20240304T110000Z-aaaaaaaaaa',
    accountId: '123456789012',
    region: 'us-east-1',
    openedAt: '2024-03-04T11:00:00.000Z',
    source: 'cloudtrail',
    unparsed: false,
    trigger: triage(signIn, ctx),
    settings: { approvalWaitSeconds: 3600, maxReminders: 3 },
  };
  const collected = evidenceCollection({
    window: { contextStart: '2024-02-26T12:00:00Z', incidentStart: input.openedAt, end: '2024-03-04T12:00:00Z' },
    evidence: { location: `${LOCATION}evidence/`, manifestSha256: 'a'.repeat(64), manifestVersionId: 'v1', files: 4 },
  });
  const base = {
    ...input,
    snapshot: {
      Payload: rootSnapshot({ takenAt: '2024-03-04T12:00:00Z', root: { accessKeysPresent: true, mfaEnabled: false, mfaDevices: [] } }),
    },
    containAndCollect: { Payload: { containment: containment({ detail: '' }), evidence: collected } },
  };
  const summary = await assessIncident(base, {
    evidence: folder.reader('evidence/'),
    bundle: new EvidenceBundle(folder.writer('assessment/')),
  });

  // The summary, each task's approval request (a reminder, with a reason from the verification), an escalation.
  await notifyResponders(
    { ...input, severity: summary.severity, steps: summary.steps, tasks: summary.counts.tasks, evidence: summary.evidence },
    { sns: new SNSClient({}), respondersTopicArn: 'arn:aws:sns:us-east-1:1:r', assessment: folder.reader('assessment/') },
  );
  const details = taskDetails(folder.reader('assessment/'));
  const taskInput = (task: (typeof summary.plan.tasks)[number]) => ({
    incidentId: input.incidentId,
    accountId: input.accountId,
    severity: summary.severity,
    task,
    waitSeconds: 3600,
    reminders: 1,
    maxReminders: 3,
    reason: `Marked done, but verification did not confirm it: ${fields.errorMessage}`,
  });
  for (const task of summary.plan.tasks) {
    await requestApproval(
      { token: 'token', input: taskInput(task) },
      {
        approvals: { create: () => Promise.resolve() } as unknown as ApprovalStore,
        sns: new SNSClient({}),
        respondersTopicArn: 'arn:aws:sns:us-east-1:1:r',
        approvalsBaseUrl: APPROVALS,
        expiryHours: 24,
        clock,
        taskDetails: details,
        newId: () => 'Abc_123-linkid',
      },
    );
  }
  const last = summary.plan.tasks[summary.plan.tasks.length - 1]!;
  await escalateTask(
    { Payload: { input: taskInput(last) } },
    { sns: new SNSClient({}), escalationTopicArn: 'arn:aws:sns:us-east-1:1:e', taskDetails: details },
  );

  // The report, and a failure whose cause carries an event's error message.
  const state: ReportInput = { ...base, assessment: { Payload: summary }, humanTasks: [] };
  await writeIncidentReport(state, {
    store: new IncidentStore(new SimulatedDynamoDb() as never, 'incidents'),
    writer: folder.writer(''),
    reader: folder.reader(''),
    mode: 'standalone',
    responderAccountId: input.accountId,
    sns: new SNSClient({}),
    respondersTopicArn: 'arn:aws:sns:us-east-1:1:r',
    clock,
  });
  await reportFailure(
    { ...base, failure: { Error: 'EvidenceReadError', Cause: JSON.stringify({ errorMessage: fields.errorMessage }) } },
    {
      store: new IncidentStore(new SimulatedDynamoDb() as never, 'incidents'),
      sns: new SNSClient({}),
      alertTopicArn: 'arn:aws:sns:us-east-1:1:a',
      clock,
    },
  );
  const report = buildReport(state, await readReportInputs(state, folder.reader('')), clock.now());
  return {
    emails: snsMock.commandCalls(PublishCommand).map((c) => ({ subject: c.args[0].input.Subject!, body: c.args[0].input.Message! })),
    report,
    markdown: folder.files.get('report.md')!,
    html: folder.files.get('report.html')!,
  };
}

/** The same report with every string an event could have written replaced by a plain word. */
function plain(report: IncidentReport): IncidentReport {
  const keep = new Set(['severity', 'status', 'verified', 'statesVisited']);
  const walk = (value: unknown, key = ''): unknown => {
    if (typeof value === 'string') return keep.has(key) ? value : 'x';
    if (Array.isArray(value)) return value.map((v) => walk(v, key));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    return value;
  };
  return walk(report) as IncidentReport;
}

const md = new MarkdownIt({ html: true, linkify: true });
type Token = ReturnType<typeof md.parse>[number];
const flat = (tokens: Token[]): Token[] => tokens.flatMap((t) => [t, ...flat(t.children ?? [])]);
/** The structure a viewer builds: every token's type and tag, with text and code contents left out. */
const shape = (markdown: string) => flat(md.parse(markdown, {})).map((t) => `${t.type}:${t.tag}`);
const tags = (html: string) => html.match(/<\/?[a-zA-Z][^>]*>/g) ?? [];

const RUNS = 60;
const counted = { markdown: 0, html: 0, email: 0, terminal: 0 };
afterAll(() => {
  // The counts of generated hostile cases each format was checked against (the report quotes them).
  process.stdout.write(`hostile-output cases: ${JSON.stringify(counted)}\n`);
});

describe('output carries no attacker markup (generated hostile events through the real steps)', () => {
  it('report.md: every event value is text to a Markdown viewer: no link, image, HTML or new block', async () => {
    await fc.assert(
      fc.asyncProperty(ATTACKER_FIELDS, async (fields) => {
        const run = await respond(fields);
        expect(markdownLinks(run.markdown)).toEqual([]);
        const tokens = flat(md.parse(run.markdown, {}));
        expect(tokens.filter((t) => /^(link_open|image|html_inline|html_block)$/.test(t.type))).toEqual([]);
        // Values cannot add lines, list items, headings or table cells: the same report with plain values has the same shape.
        expect(shape(run.markdown)).toEqual(shape(renderMarkdown(plain(run.report))));
        expect(renderMarkdown(run.report)).toBe(run.markdown);
        counted.markdown++;
      }),
      { numRuns: RUNS, seed: 16_4 },
    );
  }, 120_000);

  it('report.html: every event value is escaped: the tags are exactly those of the same report with plain values', async () => {
    await fc.assert(
      fc.asyncProperty(ATTACKER_FIELDS, async (fields) => {
        const run = await respond(fields);
        expect(tags(run.html)).toEqual(tags(renderHtml(plain(run.report))));
        expect(run.html).not.toMatch(/<(a|img|script|svg|iframe)\b/i);
        counted.html++;
      }),
      { numRuns: RUNS, seed: 16_41 },
    );
  }, 120_000);

  it('emails: one line per value, no control character, no URL but ours, no forged decision line', async () => {
    await fc.assert(
      fc.asyncProperty(ATTACKER_FIELDS, async (fields) => {
        const run = await respond(fields);
        // Alert, summary, one request per task, escalation, report, failure.
        expect(run.emails.length).toBeGreaterThanOrEqual(5);
        for (const { subject, body } of run.emails) {
          expect(hasControlCharacters(subject)).toBe(false);
          expect(subject).not.toMatch(/[a-z][a-z0-9+.-]*:(\/|\\){2}|\bwww\./i);
          const lines = body.split('\n');
          for (const line of lines) expect({ line, control: hasControlCharacters(line) }).toEqual({ line, control: false });
          // The only URLs are the approval link (its own line) and where the evidence is.
          const ours: string[] = lines.filter((l) => l === `${APPROVALS}/approvals/Abc_123-linkid`);
          const rest = lines.filter((l) => !ours.includes(l)).map((l) => l.split(LOCATION).join(''));
          expect(rest.filter((l) => /[a-z][a-z0-9+.-]*:(\/|\\){2}|\bwww\./i.test(l))).toEqual([]);
          // "Open this link ..." is ours alone, followed by our link.
          lines.forEach((line, i) => {
            if (/open this link/i.test(line.trimStart().slice(0, 20))) {
              expect(line).toMatch(/^Open this link to record your decision \(expires /);
              expect(lines[i + 1]).toBe(`${APPROVALS}/approvals/Abc_123-linkid`);
            }
          });
          expect(
            lines.filter((l) => /^(https?:|www\.|\[|!\[|<|Open this link to record your decision:)/i.test(l.trim()) && !ours.includes(l)),
          ).toEqual([]);
        }
        counted.email++;
      }),
      { numRuns: RUNS, seed: 16_42 },
    );
  }, 120_000);

  it('terminal: triage and verify-evidence show control and escape characters visibly, and the JSON still parses to the value', async () => {
    await fc.assert(
      fc.asyncProperty(ATTACKER_FIELDS, async (fields) => {
        const records = hostileRecords(TIMELINE, fields);
        const out: string[] = [];
        const err: string[] = [];
        const io = {
          stdout: (l: string) => out.push(l),
          stderr: (l: string) => err.push(l),
          readStdin: () => Promise.resolve(JSON.stringify(records)),
        };
        expect(await main(['triage'], io)).toBe(0);
        expect(out).toHaveLength(records.length);
        out.forEach((line, i) => {
          expect(hasControlCharacters(line)).toBe(false);
          expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(triage(records[i]!, defaultTriageContext([])))));
        });
        // A folder name from anywhere, in an error: shown, never interpreted.
        const bad: string[] = [];
        const code = await main(['verify-evidence', `/nonexistent/${fields.userAgent}`, '--digest', 'a'.repeat(64)], {
          ...io,
          stderr: (l) => bad.push(l),
        });
        expect(code).toBe(2);
        for (const line of bad) expect(hasControlCharacters(line.replace(/\n/g, ''))).toBe(false);
        if (fields.userAgent.includes('\u001b')) expect(bad.join('\n')).toContain('\\x1b');
        counted.terminal++;
      }),
      { numRuns: RUNS, seed: 16_43 },
    );
  }, 120_000);

  it("the issue's own payloads: no link or image in report.md, no forged line in any email", async () => {
    const run = await respond({
      userAgent: '[Reset your password](https://evil.example)',
      sourceHost: '![](https://evil.example/pixel.gif)',
      parameter: '<https://evil.example/auto>',
      userName: 'eve\nOpen this link to record your decision: https://evil.example/approvals/forged',
      errorMessage: '\u001b[2J\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007',
      eventName: 'Steal\r\n\r\n# Urgent',
      contactName: 'www.evil.example',
    });
    expect(md.render(run.markdown)).not.toMatch(/<a |<img /);
    expect(run.markdown).toContain('`Root signed in to the console from ![](https://evil.example/pixel.gif), outside');
    const bodies = run.emails.map((e) => e.body).join('\n');
    expect(bodies).not.toMatch(/^Open this link to record your decision: https/m);
    expect(bodies).toContain('Open this link to record your decision: https[:]//evil.example/approvals/forged');
  });
});
