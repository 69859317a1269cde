import { expect } from '@jest/globals';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ApprovalStore } from '#shared/approval-store';
import { fixedClock } from '#shared/clock';
import { memoryLog } from '#shared/logger';
import { currentCode, enroll, SecretsManagerDirectory } from '#shared/responders';
import { handleApprovalRequest, type HttpDeps } from '#functions/approvals/http';
import { requestApproval } from '#functions/request-approval/request-approval';
import { ACCOUNT, describeMoto, itKeepsTheManifestHonest, useMoto, watchSent } from './moto';
import { PlansInS3, type TaskSpec } from './states';

/**
 * The approvals flow on moto: Request Approval stores the approval (DynamoDB) and mails the link
 * (SNS); the approvals HTTP handler renders and decides with the responders directory read from a
 * Secrets Manager secret, and tells Step Functions. Task-token validation is stubbed in front of
 * moto (which accepts any token): a token is answered once. The Map item carries only the task's
 * ref: Request Approval reads the task's text from the assessment's plan.json in moto's S3.
 */
describeMoto('contract: approvals over HTTP', () => {
  const moto = useMoto();
  const ORIGIN = 'https://abc123.execute-api.us-east-1.amazonaws.com';
  const alice = enroll('alice@example.com', 'Alice').responder;
  const bob = enroll('bob@example.com', 'Bob').responder;
  const clock = fixedClock('2024-03-04T10:00:00Z');
  const totp = fixedClock('2024-03-04T10:00:00Z');
  let approvals: ApprovalStore;
  let deps: HttpDeps;
  let topicArn: string;
  let plans: PlansInS3;

  beforeEach(async () => {
    await moto.reset();
    clock.set('2024-03-04T10:00:00Z');
    totp.set('2024-03-04T10:00:00Z');
    approvals = new ApprovalStore(moto.aws.documentClient(), (await moto.aws.createTables()).approvals);
    topicArn = (await moto.aws.snsAdmin().send(new CreateTopicCommand({ Name: 'root-responder-test-responders' }))).TopicArn!;
    const secret = await moto.aws
      .secretsAdmin()
      .send(
        new CreateSecretCommand({ Name: 'root-responder/test/responders', SecretString: JSON.stringify({ responders: [alice, bob] }) }),
      );
    plans = new PlansInS3(moto.aws, await moto.aws.evidenceBucket());
    deps = {
      approvals,
      sfn: moto.aws.sfn(),
      responders: new SecretsManagerDirectory(moto.aws.secretsManager(), secret.ARN!),
      origin: ORIGIN,
      clock,
      totpClock: totp,
      log: memoryLog(),
    };
  });

  /**
   * Request Approval, as the waitForTaskToken state runs it on a Map item of a plan in S3; returns the
   * link id from the email. The task's text in the email and the approval comes from plan.json.
   */
  async function requested(spec: TaskSpec): Promise<{ id: string; token: string }> {
    const token = moto.aws.issueTaskToken();
    const item = await plans.item(ACCOUNT, {
      why: [`Why ${spec.id}`],
      steps: [`Step 1 of ${spec.id}`],
      verification: `How ${spec.id} is checked`,
      ...spec,
    });
    expect(item.Payload.input.task).not.toHaveProperty('title');
    const sentNow = watchSent();
    await requestApproval(
      { token, input: item.Payload.input },
      {
        approvals,
        sns: moto.aws.sns(),
        respondersTopicArn: topicArn,
        approvalsBaseUrl: ORIGIN,
        expiryHours: 24,
        clock,
        taskDetails: plans.details(ACCOUNT),
      },
    );
    expect(sentNow('GetObjectCommand').map((s) => [s.to, s.input['Key'], s.error])).toEqual([['moto', plans.key(ACCOUNT), undefined]]);
    const mail = sentNow('PublishCommand')[0]!;
    expect(mail.error).toBeUndefined();
    const message = String(mail.input['Message']);
    expect(message).not.toContain(token);
    const title = spec.title ?? spec.id;
    expect(String(mail.input['Subject'])).toContain(title);
    for (const text of [`Task: ${title}`, `- Why ${spec.id}`, `1. Step 1 of ${spec.id}`, `How it is verified: How ${spec.id} is checked`])
      expect(message).toContain(text);
    const id = /\/approvals\/([A-Za-z0-9_-]{43})/.exec(message)![1]!;
    expect(await approvals.get(id)).toMatchObject({
      taskId: spec.id,
      title,
      why: [`Why ${spec.id}`],
      steps: [`Step 1 of ${spec.id}`],
      verification: `How ${spec.id} is checked`,
    });
    return { id, token };
  }

  const event = (id: string, method: 'GET' | 'POST', extra: { body?: string; cookies?: string[] } = {}) =>
    ({
      pathParameters: { id },
      requestContext: { http: { method, sourceIp: '198.51.100.9' } },
      headers: method === 'POST' ? { origin: ORIGIN } : {},
      ...extra,
    }) as unknown as APIGatewayProxyEventV2;

  async function decide(id: string, who: typeof alice, decision: 'approve' | 'reject', code = currentCode(who, totp.now())) {
    const page = await handleApprovalRequest(event(id, 'GET'), deps);
    const csrf = /name="csrf" value="([^"]+)"/.exec(String(page.body))?.[1] ?? '';
    const cookie = (page.cookies ?? [])[0]?.split(';')[0] ?? '';
    return handleApprovalRequest(
      event(id, 'POST', {
        body: new URLSearchParams({ csrf, email: who.email, code, decision, comment: 'checked' }).toString(),
        cookies: [cookie],
      }),
      deps,
    );
  }

  it('request, open, approve with a TOTP code: the workflow hears SendTaskSuccess once; a resubmission is told the token was answered', async () => {
    const { id, token } = await requested({ id: 'change-root-password', title: 'Change the root password' });
    const sentNow = watchSent();
    const res = await decide(id, alice, 'approve');

    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Approved');
    const [success] = sentNow('SendTaskSuccessCommand');
    expect(success).toMatchObject({ to: 'moto', input: { taskToken: token } });
    expect(JSON.parse(String(success!.input['output']))).toMatchObject({
      decision: 'approved',
      decidedBy: 'alice@example.com',
      comment: 'checked',
    });
    expect((await approvals.get(id))!.status).toBe('approved');

    // Alice submits again (her first response was lost): her decision stands, the workflow is told
    // again, and AWS refuses the answered token (TaskTimedOut, from the token stub).
    totp.advance(30_000);
    const again = await handleApprovalRequest(
      event(id, 'POST', {
        body: new URLSearchParams({ csrf: 'x', email: alice.email, code: currentCode(alice, totp.now()), decision: 'approve' }).toString(),
        cookies: ['__Host-rr_csrf=x'],
      }),
      deps,
    );
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain('earlier');
    expect(sentNow('SendTaskSuccessCommand').map((s) => [s.to, s.error])).toEqual([
      ['moto', undefined],
      ['stub', 'TaskTimedOut'],
    ]);
    // The responders secret was read once (the directory caches it).
    expect(sentNow('GetSecretValueCommand').length).toBeLessThanOrEqual(1);
  });

  it('a rejection is SendTaskFailure with ApprovalRejectedError', async () => {
    const { id, token } = await requested({ id: 'enable-root-mfa', title: 'Enable root MFA' });
    const sentNow = watchSent();
    const res = await decide(id, bob, 'reject');
    expect(res.statusCode).toBe(200);
    expect(sentNow('SendTaskFailureCommand')).toEqual([
      expect.objectContaining({
        to: 'moto',
        input: expect.objectContaining({ taskToken: token, error: 'ApprovalRejectedError', cause: 'checked' }),
      }),
    ]);
  });

  it('two-person rule: the first approval is recorded (202), the second sends the decision', async () => {
    const { id } = await requested({
      id: 'quarantine',
      kind: 'remediation',
      title: 'Delete root password',
      remediation: { action: 'delete-root-password', target: ACCOUNT, region: 'us-east-1' },
    });
    const sentNow = watchSent();
    expect((await decide(id, alice, 'approve')).statusCode).toBe(202);
    expect(sentNow('SendTaskSuccessCommand')).toHaveLength(0);
    totp.advance(30_000);
    expect((await decide(id, bob, 'approve')).statusCode).toBe(200);
    expect(sentNow('SendTaskSuccessCommand').map((s) => s.to)).toEqual(['moto']);
  });

  it('an unknown responder or a wrong code decides nothing', async () => {
    const { id } = await requested({ id: 'change-root-password', title: 'Change the root password' });
    const sentNow = watchSent();
    expect((await decide(id, enroll('mallory@example.com', 'Mallory').responder, 'approve')).statusCode).toBe(403);
    const valid = new Set([-30_000, 0, 30_000].map((d) => currentCode(alice, new Date(totp.now().getTime() + d))));
    const wrong = ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c))!;
    expect((await decide(id, alice, 'approve', wrong)).statusCode).toBe(403);
    expect(sentNow('SendTaskSuccessCommand')).toHaveLength(0);
    expect((await approvals.get(id))!).toMatchObject({ status: 'pending' });
    // The unknown responder counted nothing; Alice's wrong code took one of her five on this link.
    const left = [];
    for (let i = 0; i < 5; i++) left.push(await approvals.reserveAttempt(id, alice.email, '2099-01-01T00:00:00Z', totp.now()));
    expect(left.map((r) => ('reserved' in r ? 'reserved' : r.refused))).toEqual(['reserved', 'reserved', 'reserved', 'reserved', 'link']);
  });

  itKeepsTheManifestHonest(__filename);
});
