import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * The drill's approval server: the deployed approvals handler behind a thin HTTP adapter on
 * 127.0.0.1 (an ephemeral port), which turns each request into the API Gateway v2 event the
 * handler gets in AWS. Nothing listens beyond the loopback address.
 */
export interface ApprovalServer {
  baseUrl: string;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startApprovalServer(
  handler: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>,
): Promise<ApprovalServer> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const match = /^\/(?:approvals|passkeys)\/([^/]+)$/.exec(url.pathname);
      if (!match) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(',') : (v ?? '')]),
      );
      const event = {
        version: '2.0',
        routeKey: `${req.method} ${url.pathname.startsWith('/passkeys/') ? '/passkeys/{id}' : '/approvals/{id}'}`,
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        ...(headers['cookie'] ? { cookies: headers['cookie'].split(';').map((c) => c.trim()) } : {}),
        pathParameters: { id: decodeURIComponent(match[1]!) },
        requestContext: {
          http: {
            method: req.method ?? 'GET',
            path: url.pathname,
            sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
            protocol: 'HTTP/1.1',
            userAgent: headers['user-agent'] ?? '',
          },
        },
        body: req.method === 'POST' ? await bodyOf(req) : undefined,
        isBase64Encoded: false,
      } as unknown as APIGatewayProxyEventV2;
      const out = await handler(event);
      const responseHeaders: Record<string, string | string[]> = { ...(out.headers as Record<string, string>) };
      if (out.cookies?.length) responseHeaders['set-cookie'] = out.cookies;
      res.writeHead(out.statusCode ?? 200, responseHeaders).end(out.body ?? '');
    })().catch((error: Error) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`drill approval server: ${error.name}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * What a responder's browser does: open the link, read the form, send it. Signed in for the
 * incident (`session`, the cookie from an earlier answer), the decision needs no code; otherwise
 * the code signs the responder in and decides in one step, and the answer carries the session.
 */
export async function respondOverHttp(
  link: string,
  answer: { email: string; code: string | (() => string); decision: 'approve' | 'reject'; comment?: string; session?: string },
  options: { retriesOnServerError?: number } = {},
): Promise<{ status: number; page: string; statuses: number[]; session?: string }> {
  const get = await fetch(link, answer.session ? { headers: { cookie: answer.session } } : {});
  const page = await get.text();
  if (get.status !== 200) return { status: get.status, page, statuses: [get.status] };
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  const signedIn = answer.session !== undefined && page.includes('Signed in as');
  const cookie = [...(get.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]), ...(signedIn ? [answer.session] : [])].join('; ');
  // A server error: the person submits the same page again, with the code their app shows now.
  const statuses: number[] = [];
  for (let attempt = 0; ; attempt++) {
    const form: Record<string, string> = { csrf, decision: answer.decision, comment: answer.comment ?? '' };
    if (!signedIn) Object.assign(form, { email: answer.email, code: typeof answer.code === 'function' ? answer.code() : answer.code });
    const post = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(link).origin, cookie },
      body: new URLSearchParams(form).toString(),
    });
    statuses.push(post.status);
    const text = await post.text();
    const session = (post.headers.getSetCookie?.() ?? []).find((c) => c.startsWith('__Host-rr_session='))?.split(';')[0];
    if (post.status < 500 || attempt >= (options.retriesOnServerError ?? 0))
      return { status: post.status, page: text, statuses, ...(session ? { session } : signedIn ? { session: answer.session } : {}) };
  }
}
