import { createHash } from 'node:crypto';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { ApprovalStore, newApprovalId } from '#shared/approval-store';
import { fixedClock } from '#shared/clock';
import { memoryLog } from '#shared/logger';
import { currentCode, enroll } from '#shared/responders';
import { handleApprovalRequest, type HttpDeps } from '#functions/approvals/http';
import { handler as approvalsHandler } from '#functions/approvals/handler';
import { handlePasskeyEnrollment } from '#functions/approvals/passkey-http';
import { enrollmentWeb } from '#functions/approvals/http';
import { PasskeyStore } from '#shared/passkeys';
import { SoftwarePasskey } from '../helpers-webauthn';
import { DRILL_ENV, inLocalContext } from '#drill/drill';
import { SimulatedSns } from '#drill/simulated-sns';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';

const ORIGIN = 'https://abc123.execute-api.us-east-1.amazonaws.com';
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAXsecret-task-token-value';
const sfnMock = mockClient(SFNClient);
const alice = enroll('alice@example.com', 'Alice').responder;
const bob = enroll('bob@example.com', 'Bob').responder;

let approvals: ApprovalStore;
let db: SimulatedDynamoDb;
let log: ReturnType<typeof memoryLog>;
let deps: HttpDeps;
const clock = fixedClock('2024-03-04T10:00:00Z');
const totp = fixedClock('2024-03-04T10:00:00Z');

beforeEach(() => {
  sfnMock.reset();
  sfnMock.on(SendTaskSuccessCommand).resolves({});
  sfnMock.on(SendTaskFailureCommand).resolves({});
  db = new SimulatedDynamoDb();
  approvals = new ApprovalStore(db as never, 'approvals');
  log = memoryLog();
  clock.set('2024-03-04T10:00:00Z');
  totp.set('2024-03-04T10:00:00Z');
  deps = {
    approvals,
    sfn: new SFNClient({}),
    responders: { find: (e) => Promise.resolve([alice, bob].find((r) => r.email === e)) },
    origin: ORIGIN,
    clock,
    totpClock: totp,
    log,
  };
});

async function approval(required = 1, task: { incidentId?: string; taskId?: string; title?: string } = {}): Promise<string> {
  const id = newApprovalId();
  await approvals.create(id, {
    incidentId: task.incidentId ?? 'inc-1',
    accountId: '111122223333',
    taskId: task.taskId ?? 'change-root-password',
    taskKind: 'console',
    title: task.title ?? 'Change the root password <b>now</b>',
    why: ['<script>alert(1)</script>'],
    steps: [`Sign in as root for ${task.taskId ?? 'change-root-password'}.`],
    token: TOKEN,
    createdAt: '2024-03-04T10:00:00Z',
    expiresAt: '2024-03-04T11:00:00Z',
    requiredApprovals: required,
  });
  return id;
}

function event(
  id: string,
  method: 'GET' | 'POST',
  extra: { headers?: Record<string, string>; body?: string; cookies?: string[] } = {},
): APIGatewayProxyEventV2 {
  return {
    pathParameters: { id },
    requestContext: { http: { method, sourceIp: '198.51.100.9' } },
    headers: extra.headers ?? {},
    ...(extra.body ? { body: extra.body } : {}),
    ...(extra.cookies ? { cookies: extra.cookies } : {}),
  } as unknown as APIGatewayProxyEventV2;
}

async function open(id: string) {
  const res = await handleApprovalRequest(event(id, 'GET'), deps);
  const csrf = /name="csrf" value="([^"]+)"/.exec(String(res.body))?.[1] ?? '';
  const cookie = (res.cookies ?? [])[0]?.split(';')[0] ?? '';
  return { res, csrf, cookie };
}

async function post(
  id: string,
  form: Record<string, string>,
  opts: { origin?: string; cookie?: string; fetchSite?: string; session?: string } = {},
) {
  return handleApprovalRequest(
    event(id, 'POST', {
      headers: { origin: opts.origin ?? ORIGIN, ...(opts.fetchSite ? { 'sec-fetch-site': opts.fetchSite } : {}) },
      body: new URLSearchParams(form).toString(),
      cookies: [...(opts.cookie ? [opts.cookie] : []), ...(opts.session ? [opts.session] : [])],
    }),
    deps,
  );
}

describe('approval pages', () => {
  it('GET renders the task, escaped, with no-store / no-referrer / CSP, sets a SameSite=Strict CSRF cookie, and decides nothing', async () => {
    const id = await approval();
    const { res, csrf } = await open(id);
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    expect(String(res.headers!['content-security-policy'])).toContain("default-src 'none'");
    // `__Host-`: Secure, Path=/, no Domain; it lives as long as the link (here one hour).
    expect(res.cookies![0]).toMatch(/^__Host-rr_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict; Max-Age=3600$/);
    expect(res.cookies![0]).not.toMatch(/Domain=/i);
    expect(csrf).toHaveLength(43);
    expect(res.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.body).not.toContain('<script>');
    expect(res.body).not.toContain(TOKEN);
    expect(sfnMock.calls()).toHaveLength(0);
    expect((await approvals.get(id))!.status).toBe('pending');
  });

  it('a valid POST (CSRF, Origin, TOTP) decides exactly once', async () => {
    const id = await approval();
    const { csrf, cookie } = await open(id);
    const res = await post(
      id,
      { csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()), decision: 'approve', comment: 'done in console' },
      { cookie },
    );
    expect(res.statusCode).toBe(200);
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(JSON.parse(sfnMock.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.output!)).toMatchObject({
      decision: 'approved',
      decidedBy: 'alice@example.com',
      comment: 'done in console',
    });
    // Again, even with a fresh page and a fresh code: already decided.
    totp.advance(30_000);
    const again = await open(id);
    expect(again.res.statusCode).toBe(409);
    expect(sfnMock.calls()).toHaveLength(1);
  });

  it('resubmitting the page after a server error that came after the decision was written resumes the workflow; nobody else can', async () => {
    const id = await approval();
    const { csrf, cookie } = await open(id);
    // The first POST wrote the decision, then the function failed before the workflow heard it.
    await approvals.decide(id, 'approved', { decidedBy: 'alice@example.com', via: 'web' }, clock.now());
    expect(sfnMock.calls()).toHaveLength(0);
    // The page now shows no form (409); the same form sent again goes through every check, then resumes.
    expect((await open(id)).res.statusCode).toBe(409);
    totp.advance(30_000);
    const again = await post(
      id,
      { csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()), decision: 'approve' },
      { cookie },
    );
    expect(again.statusCode).toBe(200);
    expect(String(again.body)).toContain('your earlier decision is on the record, and the workflow has been told again');
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    // Bob, with a valid code, cannot decide a decided link; a forged form still counts as a failed attempt.
    totp.advance(30_000);
    const bobs = await post(id, { csrf, email: 'bob@example.com', code: currentCode(bob, totp.now()), decision: 'reject' }, { cookie });
    expect(bobs.statusCode).toBe(409);
    const forged = await post(
      id,
      { csrf: 'x'.repeat(43), email: 'alice@example.com', code: currentCode(alice, totp.now()), decision: 'approve' },
      { cookie },
    );
    expect(forged.statusCode).toBe(403);
    expect(sfnMock.calls()).toHaveLength(1);
  });

  it.each([
    ['no CSRF token', (f: Record<string, string>) => ({ ...f, csrf: '' }), {}],
    ['a forged CSRF token', (f: Record<string, string>) => ({ ...f, csrf: 'x'.repeat(43) }), {}],
    ['a foreign Origin', (f: Record<string, string>) => f, { origin: 'https://evil.example' }],
    ['Origin null from another site', (f: Record<string, string>) => f, { origin: 'null', fetchSite: 'cross-site' }],
    ['a wrong code', (f: Record<string, string>) => ({ ...f, code: '000000' }), {}],
    ['an unknown responder', (f: Record<string, string>) => ({ ...f, email: 'mallory@example.com' }), {}],
  ])('refuses %s with 403, decides nothing, logs a security event', async (_name, mutate, opts) => {
    const id = await approval();
    const { csrf, cookie } = await open(id);
    const base = { csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()), decision: 'approve' };
    const res = await post(id, mutate(base), { cookie, ...opts });
    expect(res.statusCode).toBe(403);
    expect(sfnMock.calls()).toHaveLength(0);
    expect((await approvals.get(id))!.status).toBe('pending');
    expect(log.lines.some((l) => l.level === 'warn' && l.message.startsWith('Security event'))).toBe(true);
  });

  it('accepts "Origin: null" only with Sec-Fetch-Site: same-origin (what browsers send under no-referrer)', async () => {
    const id = await approval();
    const { csrf, cookie } = await open(id);
    const res = await post(
      id,
      { csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()), decision: 'approve' },
      { cookie, origin: 'null', fetchSite: 'same-origin' },
    );
    expect(res.statusCode).toBe(200);
  });

  it('a replayed code is refused', async () => {
    const first = await approval();
    const second = await approval();
    const code = currentCode(alice, totp.now());
    const a = await open(first);
    expect(
      (await post(first, { csrf: a.csrf, email: 'alice@example.com', code, decision: 'approve' }, { cookie: a.cookie })).statusCode,
    ).toBe(200);
    const b = await open(second);
    const replay = await post(second, { csrf: b.csrf, email: 'alice@example.com', code, decision: 'approve' }, { cookie: b.cookie });
    expect(replay.statusCode).toBe(403);
    expect(replay.body).toContain('already used');
  });

  it('an expired link answers 410 even though the table still holds it (TTL deletes late)', async () => {
    const id = await approval();
    clock.set('2024-03-04T11:00:01Z');
    expect((await handleApprovalRequest(event(id, 'GET'), deps)).statusCode).toBe(410);
    expect((await post(id, { csrf: 'x', email: 'alice@example.com', code: '123456', decision: 'approve' })).statusCode).toBe(410);
  });

  it('an unknown id answers 404', async () => {
    expect((await handleApprovalRequest(event(newApprovalId(), 'GET'), deps)).statusCode).toBe(404);
    expect((await handleApprovalRequest(event('not-an-id', 'POST'), deps)).statusCode).toBe(404);
  });

  it('five wrong codes lock that responder on that link only: a colleague still decides it', async () => {
    const id = await approval();
    const { csrf, cookie } = await open(id);
    for (let i = 0; i < 5; i++) await post(id, { csrf, email: 'alice@example.com', code: '000000', decision: 'approve' }, { cookie });
    const res = await post(id, { csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()), decision: 'approve' }, { cookie });
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('Too many wrong codes for this responder on this link');
    expect(sfnMock.calls()).toHaveLength(0);
    const bobs = await post(id, { csrf, email: 'bob@example.com', code: currentCode(bob, totp.now()), decision: 'approve' }, { cookie });
    expect(bobs.statusCode).toBe(200);
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  it('five bare POSTs (no Origin, no CSRF token, no code) lock nothing: the responder then decides', async () => {
    const id = await approval();
    for (let i = 0; i < 5; i++) {
      const bare = await handleApprovalRequest(event(id, 'POST', { body: 'decision=approve&email=alice%40example.com' }), deps);
      expect(bare.statusCode).toBe(403);
    }
    const { csrf, cookie } = await open(id);
    for (let i = 0; i < 5; i++)
      await post(id, { csrf: 'x'.repeat(43), email: 'alice@example.com', code: '000000', decision: 'approve' }, { cookie });
    const res = await post(id, { csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()), decision: 'approve' }, { cookie });
    expect(res.statusCode).toBe(200);
  });

  it('40 parallel wrong guesses on one link: at most 5 codes are evaluated', async () => {
    const id = await approval();
    const { csrf, cookie } = await open(id);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        post(id, { csrf, email: 'alice@example.com', code: String(100000 + i), decision: 'approve' }, { cookie }),
      ),
    );
    expect(answers.every((a) => a.statusCode === 403)).toBe(true);
    const evaluated = log.lines.filter((l) => l.message === 'Security event: bad responder or code');
    expect(evaluated.length).toBeLessThanOrEqual(5);
    expect(evaluated.length).toBe(5);
    expect(log.lines.filter((l) => l.message === 'Security event: attempt limit (link)')).toHaveLength(35);
  });

  it('ten wrong codes over two links lock a responder out everywhere, announced once; their refusals count nothing; a colleague decides; unlock ends it', async () => {
    const announced: unknown[] = [];
    deps.announceLockout = (lockout) => {
      announced.push(lockout);
      return Promise.resolve();
    };
    for (let n = 0; n < 2; n++) {
      const id = await approval();
      const { csrf, cookie } = await open(id);
      for (let i = 0; i < 5; i++) await post(id, { csrf, email: 'alice@example.com', code: '000000', decision: 'approve' }, { cookie });
    }
    expect(announced).toEqual([{ email: 'alice@example.com', until: '2024-03-04T10:15:00.000Z', failures: 10 }]);
    const id = await approval();
    const { csrf, cookie } = await open(id);
    // The locked responder's retries are refused and count against nothing.
    for (let i = 0; i < 6; i++) {
      const res = await post(
        id,
        { csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()), decision: 'approve' },
        { cookie },
      );
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('locked until 2024-03-04T10:15:00.000Z');
    }
    const bobs = await post(id, { csrf, email: 'bob@example.com', code: currentCode(bob, totp.now()), decision: 'approve' }, { cookie });
    expect(bobs.statusCode).toBe(200);
    // Unlocked (the CLI's unlock), Alice decides again at once.
    await approvals.unlockResponder('alice@example.com', clock.now());
    const other = await approval();
    const o = await open(other);
    totp.advance(30_000);
    const alices = await post(
      other,
      { csrf: o.csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()), decision: 'approve' },
      { cookie: o.cookie },
    );
    expect(alices.statusCode).toBe(200);
    expect(announced).toHaveLength(1);
  });

  it('a rejection of a two-person task needs a second responder: the first is recorded, the task stays open', async () => {
    const id = await approval(2);
    const a = await open(id);
    const first = await post(
      id,
      { csrf: a.csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()), decision: 'reject' },
      { cookie: a.cookie },
    );
    expect(first.statusCode).toBe(202);
    expect(first.body).toContain('your rejection is recorded');
    expect(sfnMock.calls()).toHaveLength(0);
    expect((await open(id)).res.statusCode).toBe(200);
    const second = await post(
      id,
      { csrf: a.csrf, email: 'bob@example.com', code: currentCode(bob, totp.now()), decision: 'reject' },
      { cookie: a.cookie },
    );
    expect(second.statusCode).toBe(200);
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskFailureCommand, 1);
  });

  it('every answer carries HSTS and the security headers, the 500 page too; a decided link does not say by whom', async () => {
    const id = await approval();
    const { res, csrf, cookie } = await open(id);
    const refusedPost = await post(id, { csrf: '', email: 'alice@example.com', code: '000000', decision: 'approve' }, { cookie });
    const ok = await post(id, { csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()), decision: 'approve' }, { cookie });
    const decidedPage = await handleApprovalRequest(event(id, 'GET'), deps);
    const missing = await handleApprovalRequest(event(newApprovalId(), 'GET'), deps);
    clock.set('2024-03-04T12:00:00Z');
    const gone = await handleApprovalRequest(event(id, 'GET'), deps);
    // The deployed handler with no configuration: its 500 page.
    const broken = await approvalsHandler(event(id, 'GET'));
    const all = [res, refusedPost, ok, decidedPage, missing, gone, broken];
    expect(all.map((r) => r.statusCode)).toEqual([200, 403, 200, 409, 404, 410, 500]);
    for (const r of all) {
      expect(r.headers).toMatchObject({
        'strict-transport-security': 'max-age=63072000; includeSubDomains',
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
      });
      expect(String(r.headers!['content-security-policy'])).toContain("frame-ancestors 'none'");
    }
    expect(decidedPage.body).toContain('This approval was approved');
    expect(decidedPage.body).not.toContain('alice');
  });

  it('the CSRF cookie lives as long as the link', async () => {
    const id = newApprovalId();
    await approvals.create(id, {
      incidentId: 'i',
      accountId: '111122223333',
      taskId: 't',
      taskKind: 'console',
      title: 'T',
      token: TOKEN,
      createdAt: '2024-03-04T10:00:00Z',
      expiresAt: '2024-03-05T10:00:00Z',
    });
    expect((await open(id)).res.cookies![0]).toMatch(/; Max-Age=86400$/);
  });

  it('a link whose wait is over answers 410: the reminder carries a fresh one', async () => {
    const id = newApprovalId();
    // What request-approval stores for a 1-second wait: the wait plus an equal grace.
    await approvals.create(id, {
      incidentId: 'i',
      accountId: '111122223333',
      taskId: 't',
      taskKind: 'console',
      title: 'T',
      token: TOKEN,
      createdAt: '2024-03-04T10:00:00Z',
      expiresAt: '2024-03-04T10:00:02Z',
    });
    clock.set('2024-03-04T10:00:03Z');
    expect((await handleApprovalRequest(event(id, 'GET'), deps)).statusCode).toBe(410);
  });

  it('two-person: the first approval answers 202 and the workflow waits; a second responder completes it', async () => {
    const id = await approval(2);
    const a = await open(id);
    expect(
      (
        await post(
          id,
          { csrf: a.csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()), decision: 'approve' },
          { cookie: a.cookie },
        )
      ).statusCode,
    ).toBe(202);
    expect(sfnMock.calls()).toHaveLength(0);
    const b = await open(id);
    expect(
      (
        await post(
          id,
          { csrf: b.csrf, email: 'bob@example.com', code: currentCode(bob, totp.now()), decision: 'approve' },
          { cookie: b.cookie },
        )
      ).statusCode,
    ).toBe(200);
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  it('two valid POSTs at once decide exactly once', async () => {
    const id = await approval();
    const a = await open(id);
    const b = await open(id);
    const [ra, rb] = await Promise.all([
      post(
        id,
        { csrf: a.csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()), decision: 'approve' },
        { cookie: a.cookie },
      ),
      post(id, { csrf: b.csrf, email: 'bob@example.com', code: currentCode(bob, totp.now()), decision: 'reject' }, { cookie: b.cookie }),
    ]);
    expect([ra.statusCode, rb.statusCode].sort()).toEqual([200, 409]);
    expect(sfnMock.calls()).toHaveLength(1);
  });

  it('never puts the task token or a TOTP secret in a response or a log line', async () => {
    const id = await approval();
    const { res, csrf, cookie } = await open(id);
    const decided = await post(
      id,
      { csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()), decision: 'reject', comment: 'not needed' },
      { cookie },
    );
    const everything = JSON.stringify([res, decided, log.lines]);
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(alice.totpSecret);
    // The link id is the page's own address (form action, cookie path), but never in a log line.
    expect(JSON.stringify(log.lines)).not.toContain(id);
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, { error: 'ApprovalRejectedError', cause: 'not needed' });
  });

  it('the deployed handler mails a lockout to the responders and the escalation contacts, once', async () => {
    const sns = new SimulatedSns();
    const local = {
      env: { ...DRILL_ENV, APPROVALS_BASE_URL: ORIGIN },
      dynamodb: db as never,
      sns: sns as never,
      sfn: new SFNClient({}),
      clock,
      totpClock: totp,
      responders: deps.responders,
    };
    const store = new ApprovalStore(db as never, DRILL_ENV.APPROVALS_TABLE);
    for (let n = 0; n < 2; n++) {
      const id = newApprovalId();
      await store.create(id, {
        incidentId: 'inc-1',
        accountId: '111122223333',
        taskId: `t${n}`,
        taskKind: 'console',
        title: 'T',
        token: TOKEN,
        createdAt: '2024-03-04T10:00:00Z',
        expiresAt: '2024-03-04T11:00:00Z',
      });
      const shown = await inLocalContext(local, () => approvalsHandler(event(id, 'GET')));
      const csrf = /name="csrf" value="([^"]+)"/.exec(String(shown.body))![1]!;
      const cookie = shown.cookies![0]!.split(';')[0]!;
      for (let i = 0; i < 5; i++) {
        const body = new URLSearchParams({ csrf, email: 'alice@example.com', code: '000000', decision: 'approve' }).toString();
        const res = await inLocalContext(local, () =>
          approvalsHandler(event(id, 'POST', { headers: { origin: ORIGIN }, body, cookies: [cookie] })),
        );
        expect(res.statusCode).toBe(403);
      }
    }
    expect(sns.outbox.map((m) => [m.topicArn, m.subject])).toEqual([
      [DRILL_ENV.RESPONDERS_TOPIC_ARN, '[root-responder] Responder locked out of approvals: alice@example.com'],
      [DRILL_ENV.ESCALATION_TOPIC_ARN, '[root-responder] Responder locked out of approvals: alice@example.com'],
    ]);
    expect(sns.outbox[0]!.body).toContain('npx root-responder responders unlock alice@example.com --stage drill');
  });

  describe('per-incident sign-in', () => {
    const sessionOf = (res: { cookies?: string[] }) => (res.cookies ?? []).find((c) => c.startsWith('__Host-rr_session='));
    const keysIn = (body: unknown) => [...String(body).matchAll(/name="task" value="(APPROVAL#[0-9a-f]{64})"/g)].map((m) => m[1]!);

    it('one code signs a responder in for the incident: they decide all ten of its tasks without another (no code waits)', async () => {
      const ids = [];
      for (let i = 0; i < 10; i++) ids.push(await approval(1, { taskId: `task-${i}`, title: `Task ${i}` }));
      await approval(1, { incidentId: 'inc-2', taskId: 'elsewhere', title: 'Another incident' });
      const start = totp.now().getTime();
      // The page of any task's link lists the incident's other open tasks, each with why, steps and verification.
      const { res, csrf, cookie } = await open(ids[3]!);
      expect(res.body).toContain('<h1>Task 3</h1>');
      for (let i = 0; i < 10; i++) if (i !== 3) expect(res.body).toContain(`<h3>Task ${i}</h3>`);
      expect(res.body).toContain('Sign in as root for task-7.');
      expect(res.body).not.toContain('Another incident');
      expect(keysIn(res.body)).toEqual([]); // not signed in: no forms for the other tasks
      const first = await post(
        ids[3]!,
        { csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()), decision: 'approve' },
        { cookie },
      );
      expect(first.statusCode).toBe(200);
      const session = sessionOf(first)!;
      expect(session).toMatch(/^__Host-rr_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict; Max-Age=900$/);
      const token = session.split(';')[0]!.split('=')[1]!;
      // Stored hashed: the table never holds the token.
      expect(JSON.stringify(db.items('approvals'))).not.toContain(token);
      const keys = keysIn(first.body);
      expect(keys).toHaveLength(9);
      for (const key of keys) {
        const next = await post(
          ids[3]!,
          { csrf, task: key, decision: 'approve', comment: 'done' },
          { cookie, session: session.split(';')[0] },
        );
        expect(next.statusCode).toBe(200);
        expect(next.body).toContain('recorded for alice@example.com');
      }
      expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 10);
      // The measure: ten decisions, one code, no wait for the next code (was 9 x 30 s).
      expect(totp.now().getTime() - start).toBe(0);
      expect(db.calls.filter((c) => c.command === 'PutCommand' && JSON.stringify(c.input).includes('"sk":"TOTP"'))).toHaveLength(1);
      expect(await approvals.openTasks('inc-1', clock.now())).toEqual([]);
    });

    it('a session is bound to its responder and incident, and lasts 15 minutes', async () => {
      const a = await approval(1, { taskId: 'a1' });
      const a2 = await approval(1, { taskId: 'a2' });
      const b = await approval(1, { incidentId: 'inc-2', taskId: 'b1' });
      const { csrf, cookie } = await open(a);
      const signedIn = await post(a, { csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()) }, { cookie });
      expect(signedIn.statusCode).toBe(200);
      expect(signedIn.body).toContain('Signed in as <strong>alice@example.com</strong>');
      const session = sessionOf(signedIn)!.split(';')[0]!;
      // Another incident's link: not signed in there (the page asks for a code; a POST without one is refused).
      const other = await handleApprovalRequest(event(b, 'GET', { cookies: [session] }), deps);
      expect(other.body).toContain('name="code"');
      expect((await post(b, { csrf, decision: 'approve' }, { cookie, session })).statusCode).toBe(403);
      // Another incident's task through this incident's link: refused.
      const bKey = `APPROVAL#${createHash('sha256').update(b).digest('hex')}`;
      const smuggled = await post(a, { csrf, task: bKey, decision: 'approve' }, { cookie, session });
      expect(smuggled.statusCode).toBe(403);
      expect(smuggled.body).toContain('not part of this incident');
      // A forged form is refused even within a session.
      expect((await post(a, { csrf: 'x'.repeat(43), decision: 'approve' }, { cookie, session })).statusCode).toBe(403);
      expect(sfnMock.calls()).toHaveLength(0);
      // Fifteen minutes later the session is over.
      clock.advance(15 * 60_000);
      expect((await post(a2, { csrf, decision: 'approve' }, { cookie, session })).statusCode).toBe(403);
      expect(sfnMock.calls()).toHaveLength(0);
    });

    it("two-person tasks still need two different responders' sessions", async () => {
      const id = await approval(2);
      const { csrf, cookie } = await open(id);
      const alices = sessionOf(await post(id, { csrf, email: 'alice@example.com', code: currentCode(alice, totp.now()) }, { cookie }))!;
      const first = await post(id, { csrf, decision: 'approve' }, { cookie, session: alices.split(';')[0] });
      expect(first.statusCode).toBe(202);
      expect((await post(id, { csrf, decision: 'approve' }, { cookie, session: alices.split(';')[0] })).statusCode).toBe(202);
      expect(sfnMock.calls()).toHaveLength(0);
      const bobs = sessionOf(await post(id, { csrf, email: 'bob@example.com', code: currentCode(bob, totp.now()) }, { cookie }))!;
      expect((await post(id, { csrf, decision: 'approve' }, { cookie, session: bobs.split(';')[0] })).statusCode).toBe(200);
      expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
      expect(JSON.parse(sfnMock.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.output!)).toMatchObject({
        decidedBy: 'alice@example.com + bob@example.com',
      });
    });
  });

  describe('passkeys', () => {
    const RP_ID = new URL(ORIGIN).hostname;
    const enrollEvent = (token: string, method: 'GET' | 'POST', form?: Record<string, string>, cookie?: string) =>
      ({
        pathParameters: { id: token },
        rawPath: `/passkeys/${token}`,
        requestContext: { http: { method, sourceIp: '198.51.100.9' } },
        headers: method === 'POST' ? { origin: ORIGIN } : {},
        ...(form ? { body: new URLSearchParams(form).toString() } : {}),
        ...(cookie ? { cookies: [cookie] } : {}),
      }) as unknown as APIGatewayProxyEventV2;

    async function enrolled(email: string): Promise<SoftwarePasskey> {
      const passkeys = deps.passkeys!;
      const pd = { passkeys, responders: deps.responders, origin: ORIGIN, clock, log };
      const { token } = await passkeys.createEnrollment(email, clock.now());
      const shown = await handlePasskeyEnrollment(enrollEvent(token, 'GET'), pd, enrollmentWeb(ORIGIN));
      expect(shown.statusCode).toBe(200);
      expect(String(shown.headers!['content-security-policy'])).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+'; connect-src 'self'/);
      const csrf = /name="csrf" value="([^"]+)"/.exec(String(shown.body))![1]!;
      const cookie = shown.cookies![0]!.split(';')[0]!;
      const options = JSON.parse(
        String(
          (await handlePasskeyEnrollment(enrollEvent(token, 'POST', { csrf, action: 'options' }, cookie), pd, enrollmentWeb(ORIGIN))).body,
        ),
      ) as { challenge: string; rp: { id: string } };
      expect(options.rp.id).toBe(RP_ID);
      const key = new SoftwarePasskey();
      const registered = await handlePasskeyEnrollment(
        enrollEvent(
          token,
          'POST',
          { csrf, action: 'register', response: JSON.stringify(key.register(options.challenge, RP_ID, ORIGIN)) },
          cookie,
        ),
        pd,
        enrollmentWeb(ORIGIN),
      );
      expect(registered.statusCode).toBe(200);
      // One-time: the link is used up.
      expect((await handlePasskeyEnrollment(enrollEvent(token, 'GET'), pd, enrollmentWeb(ORIGIN))).statusCode).toBe(404);
      return key;
    }

    async function signIn(id: string, answer: (challenge: string) => unknown) {
      const { res, csrf, cookie } = await open(id);
      expect(res.body).toContain('Sign in with a passkey');
      const options = JSON.parse(String((await post(id, { csrf, action: 'passkey-options' }, { cookie })).body)) as {
        challenge: string;
        rpId: string;
      };
      expect(options.rpId).toBe(RP_ID);
      const out = await post(id, { csrf, action: 'passkey-signin', response: JSON.stringify(answer(options.challenge)) }, { cookie });
      return { out, csrf, cookie, challenge: options.challenge };
    }

    beforeEach(() => {
      deps.passkeys = new PasskeyStore(db as never, 'approvals');
    });

    it('an enrolled passkey signs the responder in for the incident; they decide without a code', async () => {
      const key = await enrolled('alice@example.com');
      const id = await approval();
      const { out, csrf, cookie } = await signIn(id, (challenge) => key.authenticate(challenge, RP_ID, ORIGIN));
      expect(out.statusCode).toBe(200);
      expect(JSON.parse(String(out.body))).toMatchObject({ signedIn: 'alice@example.com' });
      const session = out.cookies!.find((c) => c.startsWith('__Host-rr_session='))!.split(';')[0]!;
      const decided = await post(id, { csrf, decision: 'approve' }, { cookie, session });
      expect(decided.statusCode).toBe(200);
      expect(JSON.parse(sfnMock.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.output!)).toMatchObject({
        decidedBy: 'alice@example.com',
      });
    });

    it.each([
      ['bound to another RP ID and origin (a look-alike site)', 'evil.example', 'https://evil.example'],
      ['bound to another RP ID, sent with our origin', 'evil.example', ORIGIN],
      ['made on another origin for our RP ID', RP_ID, 'https://evil.example'],
    ])('a passkey %s is refused: no session, nothing decided', async (_name, rpId, origin) => {
      const key = await enrolled('alice@example.com');
      const id = await approval();
      const { out } = await signIn(id, (challenge) => key.authenticate(challenge, rpId, origin));
      expect(out.statusCode).toBe(403);
      expect(out.cookies ?? []).toEqual([]);
      expect(log.lines.some((l) => l.message === 'Security event: passkey sign-in refused')).toBe(true);
      expect(sfnMock.calls()).toHaveLength(0);
    });

    it('a challenge works once, and only for the incident whose page asked for it', async () => {
      const key = await enrolled('alice@example.com');
      const id = await approval();
      const other = await approval(1, { incidentId: 'inc-2' });
      const first = await signIn(id, (challenge) => key.authenticate(challenge, RP_ID, ORIGIN));
      expect(first.out.statusCode).toBe(200);
      const replay = await post(
        id,
        { csrf: first.csrf, action: 'passkey-signin', response: JSON.stringify(key.authenticate(first.challenge, RP_ID, ORIGIN)) },
        { cookie: first.cookie },
      );
      expect(replay.statusCode).toBe(403);
      const o = await open(other);
      const options = JSON.parse(String((await post(id, { csrf: o.csrf, action: 'passkey-options' }, { cookie: o.cookie })).body)) as {
        challenge: string;
      };
      const elsewhere = await post(
        other,
        { csrf: o.csrf, action: 'passkey-signin', response: JSON.stringify(key.authenticate(options.challenge, RP_ID, ORIGIN)) },
        { cookie: o.cookie },
      );
      expect(elsewhere.statusCode).toBe(403);
    });
  });
});
