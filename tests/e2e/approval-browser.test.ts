import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import { chromium, type Browser } from 'playwright-core';
import type { LocalClients } from '#shared/clients';
import { currentCode, enroll } from '#shared/responders';
import type { ApprovalRequest } from '#shared/contracts/task-item';
import { startApprovalServer, type ApprovalServer } from '#drill/approval-server';
import { deployedFunctions, loadHandler, PROJECT_ROOT } from '#drill/deployment';
import { DRILL_ENV, inLocalContext } from '#drill/drill';
import { isCommand, SimulatedDynamoDb } from '#drill/simulated-dynamodb';
import { SimulatedSns } from '#drill/simulated-sns';
import { TaskTokenBroker } from '#drill/task-tokens';
import { PasskeyStore } from '#shared/passkeys';
import type { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';

/**
 * A real browser (Debian's Chromium, headless, driven by playwright-core) on 127.0.0.1: it opens
 * the approval link from the outbox, reads the page, enters a TOTP code and approves; the waiting
 * task token resumes. `.ci/run` installs Chromium; screenshots go to test-artifacts/.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts');
// CI installs Chromium and must run this; on a workstation without it the test says so and is skipped.
const run = existsSync(CHROMIUM) || process.env['CI'] === 'true';
if (!run) process.stderr.write(`approval-browser.test.ts: skipped, ${CHROMIUM} not installed (sudo apt-get install chromium)\n`);
const describeBrowser = run ? describe : describe.skip;

let browser: Browser;
let server: ApprovalServer;
let context: LocalClients;
const broker = new TaskTokenBroker();
const sns = new SimulatedSns();
const alice = enroll('alice@responders.example', 'Alice').responder;
/** The task as the assessment's plan.json holds it (the Map item carries its id and kind). */
const TASK = {
  id: 'change-root-password',
  kind: 'console' as const,
  title: 'Change the root password',
  why: ['Whoever used root may know the password.'],
  steps: ['Sign in as root.', 'Update the console password.'],
  verification: 'A root PasswordUpdated event.',
};
const plan = {
  read: async (path: string) =>
    path === 'plan.json'
      ? Buffer.from(JSON.stringify({ askWasItYou: false, gate: [], tasks: [TASK] }))
      : Promise.reject(new Error(`no ${path}`)),
};

describeBrowser('approval page in a real browser', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium package (apt-get install chromium)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    const approvals = loadHandler(deployedFunctions().get('approvals')!);
    server = await startApprovalServer((event) => inLocalContext(context, () => approvals(event)) as never);
    const sfn = {
      // Answered now; a throw (a bad token, unparsable output) is the rejection, as from an async send.
      send: (command: unknown) =>
        new Promise((resolve) => {
          // The approvals bundle sends its own copy of the SDK's commands: told apart by class name.
          if (isCommand<SendTaskSuccessCommand>(command, 'SendTaskSuccessCommand'))
            broker.succeed(command.input.taskToken!, JSON.parse(command.input.output!));
          if (isCommand<SendTaskFailureCommand>(command, 'SendTaskFailureCommand'))
            broker.fail(command.input.taskToken!, command.input.error!, command.input.cause ?? '');
          resolve({});
        }),
    };
    context = {
      env: { ...DRILL_ENV, APPROVALS_BASE_URL: server.baseUrl },
      dynamodb: new SimulatedDynamoDb() as unknown as DynamoDBDocumentClient,
      sns: sns as unknown as SNSClient,
      sfn: sfn as unknown as SFNClient,
      objectReader: () => plan,
      responders: { find: (e) => Promise.resolve(e === alice.email ? alice : undefined) },
    };
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('a responder approves in the browser with a TOTP code, and the waiting task resumes', async () => {
    const token = broker.newToken();
    const waiting = broker.wait(token);
    const request: ApprovalRequest = {
      token,
      input: {
        incidentId: '210987654321-20261129T000000Z-abc',
        accountId: '210987654321',
        severity: 'critical',
        task: { id: TASK.id, kind: TASK.kind },
        waitSeconds: 600,
        reminders: 0,
        maxReminders: 1,
      },
    };
    await inLocalContext(context, () => loadHandler(deployedFunctions().get('requestApproval')!)(request));
    const link = /http:\/\/127\.0\.0\.1:\d+\/approvals\/[A-Za-z0-9_-]{43}/.exec(sns.outbox.at(-1)!.body)![0];

    const page = await browser.newPage();
    await page.goto(link);
    expect(await page.locator('h1').textContent()).toBe('Change the root password');
    expect(await page.locator('ol li').allTextContents()).toEqual(['Sign in as root.', 'Update the console password.']);
    await page.screenshot({ path: join(ARTIFACTS, 'approval-page.png'), fullPage: true });
    await page.fill('input[name=email]', alice.email);
    await page.fill('input[name=code]', currentCode(alice, new Date()));
    await page.fill('input[name=comment]', 'changed it just now');
    await page.click('button[value=approve]');
    await page.waitForSelector('h1');
    expect(await page.locator('h1').textContent()).toBe('Approved');
    await page.screenshot({ path: join(ARTIFACTS, 'approval-decided.png'), fullPage: true });

    await expect(waiting).resolves.toMatchObject({ decision: 'approved', decidedBy: alice.email, comment: 'changed it just now' });
    // The same link again: decided, nothing more happens.
    await page.goto(link);
    expect(await page.locator('h1').textContent()).toBe('Already decided');
    await page.close();
  }, 60_000);

  it('a responder enrolls a passkey, signs in with it (Chromium virtual authenticator) and approves; the waiting task resumes', async () => {
    // WebAuthn needs a domain for its RP ID (never an IP address): the same server, as localhost.
    const base = server.baseUrl.replace('127.0.0.1', 'localhost');
    context = { ...context, env: { ...context.env, APPROVALS_BASE_URL: base } };
    const store = new PasskeyStore(context.dynamodb!, DRILL_ENV.APPROVALS_TABLE);
    const { token: enrollment } = await store.createEnrollment(alice.email, new Date());

    const page = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await page.goto(`${base}/passkeys/${enrollment}`);
    await page.click('#enroll');
    await page.waitForSelector('#passkey-status:not(:empty)');
    expect(await page.locator('#passkey-status').textContent()).toBe(`Passkey enrolled for ${alice.email}.`);

    const token = broker.newToken();
    const waiting = broker.wait(token);
    await inLocalContext(context, () =>
      loadHandler(deployedFunctions().get('requestApproval')!)({
        token,
        input: {
          incidentId: '210987654321-20261129T000000Z-def',
          accountId: '210987654321',
          severity: 'critical',
          task: { id: TASK.id, kind: TASK.kind },
          waitSeconds: 600,
          reminders: 0,
          maxReminders: 1,
        },
      } satisfies ApprovalRequest),
    );
    const link = /http:\/\/localhost:\d+\/approvals\/[A-Za-z0-9_-]{43}/.exec(sns.outbox.at(-1)!.body)![0];
    await page.goto(link);
    await page.click('#passkey');
    await page.waitForSelector('text=Signed in as');
    expect(await page.locator('input[name=code]').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'approval-passkey-signed-in.png'), fullPage: true });
    await page.fill('input[name=comment]', 'passkey');
    await page.click('button[value=approve]');
    await page.waitForSelector('h1');
    expect(await page.locator('h1').textContent()).toBe('Approved');
    await expect(waiting).resolves.toMatchObject({ decision: 'approved', decidedBy: alice.email, comment: 'passkey' });
    await page.close();
  }, 60_000);
});
