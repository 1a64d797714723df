/**
 * A local OpenAI-compatible chat-completions server for the LLM strategy's tests. It replays scripted
 * replies in order and validates every request the way the real API does — path, method, auth header,
 * body shape, model, messages, `response_format` (including OpenAI's strict structured-output rules and the
 * "messages must mention json" rule of `json_object`), token parameters — answering 4xx with the API's
 * error shape on a violation. Violations are also recorded, so a test can assert that none happened.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Reply =
  /** A chat completion whose message content is `content` (a string, or an object sent as JSON). */
  | {
      content: string | object | null;
      delayMs?: number;
      usage?: { prompt_tokens: number; completion_tokens: number } | null;
      finishReason?: 'stop' | 'length';
      refusal?: string;
    }
  /** A raw HTTP answer, e.g. 429 with retry-after or 500. */
  | { status: number; headers?: Record<string, string>; body?: unknown };

export interface Recorded {
  at: number;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  /** The reply given (after validation), or the 4xx the validation produced. */
  answered: number;
}

export interface ScriptedServerOptions {
  /** Bearer token the server expects (undefined: it wants no Authorization header at all). */
  apiKey?: string;
  models?: string[];
  /** Servers without structured output (older vLLM, llama.cpp, many proxies) refuse json_schema. */
  jsonSchema?: boolean;
  /** Some refuse any response_format (json_object too). */
  jsonObject?: boolean;
  /** Older servers know only `max_tokens`. */
  maxCompletionTokens?: boolean;
  /** Azure OpenAI: /openai/deployments/<model>/chat/completions?api-version=…, `api-key` header. */
  azureApiVersion?: string;
}

export interface ScriptedServer {
  baseURL: string;
  /** For Azure: the endpoint (no /openai suffix). */
  endpoint: string;
  requests: Recorded[];
  violations: string[];
  push(...replies: Reply[]): void;
  /** Replies not consumed yet. */
  pending(): number;
  close(): Promise<void>;
}

const TOP_LEVEL = new Set([
  'model',
  'messages',
  'response_format',
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'seed',
  'stop',
  'n',
  'stream',
  'user',
  'presence_penalty',
  'frequency_penalty',
]);

function apiError(
  res: ServerResponse,
  status: number,
  message: string,
  param: string | null = null,
  code: string | null = null,
) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type: 'invalid_request_error', param, code } }));
}

/** OpenAI's strict mode: closed objects, every property required, only supported keywords. */
export function strictSchemaProblem(schema: unknown, path = '$'): string | undefined {
  if (!schema || typeof schema !== 'object') return `${path}: not a schema`;
  const s = schema as Record<string, unknown>;
  const allowed = new Set([
    'type',
    'properties',
    'required',
    'additionalProperties',
    'items',
    'enum',
    'description',
    'anyOf',
    'const',
  ]);
  for (const k of Object.keys(s)) if (!allowed.has(k)) return `${path}: keyword '${k}' is not supported in strict mode`;
  if (s.type === 'object') {
    if (s.additionalProperties !== false)
      return `${path}: 'additionalProperties' is required to be supplied and to be false`;
    const props = (s.properties ?? {}) as Record<string, unknown>;
    const req = (s.required ?? []) as unknown[];
    for (const k of Object.keys(props)) {
      if (!req.includes(k)) return `${path}: 'required' is required to include every key in properties; missing '${k}'`;
      const p = strictSchemaProblem(props[k], `${path}.${k}`);
      if (p) return p;
    }
  } else if (s.type === 'array') {
    const p = strictSchemaProblem(s.items, `${path}[]`);
    if (p) return p;
  } else if (!['string', 'number', 'integer', 'boolean', 'null'].includes(s.type as string)) {
    return `${path}: unsupported type ${JSON.stringify(s.type)}`;
  }
  return undefined;
}

type Capabilities = Required<
  Pick<ScriptedServerOptions, 'models' | 'jsonSchema' | 'jsonObject' | 'maxCompletionTokens'>
>;

function validate(body: Record<string, unknown>, opts: Capabilities) {
  for (const k of Object.keys(body)) {
    if (!TOP_LEVEL.has(k) || (k === 'max_completion_tokens' && !opts.maxCompletionTokens)) {
      return { status: 400, message: `Unrecognized request argument supplied: ${k}`, param: k };
    }
  }
  if (typeof body.model !== 'string')
    return { status: 400, message: 'you must provide a model parameter', param: 'model' };
  if (!opts.models.includes(body.model)) {
    return {
      status: 404,
      message: `The model \`${body.model}\` does not exist or you do not have access to it.`,
      param: 'model',
    };
  }
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    return { status: 400, message: "'messages' must be a non-empty array", param: 'messages' };
  }
  for (const [i, m] of messages.entries()) {
    if (!m || typeof m !== 'object')
      return { status: 400, message: `messages[${i}] is not an object`, param: 'messages' };
    const keys = Object.keys(m);
    if (keys.some((k) => k !== 'role' && k !== 'content')) {
      return { status: 400, message: `messages[${i}]: unexpected key`, param: 'messages' };
    }
    if (!['system', 'developer', 'user', 'assistant'].includes(m.role)) {
      return {
        status: 400,
        message: `messages[${i}].role: invalid value ${JSON.stringify(m.role)}`,
        param: 'messages',
      };
    }
    if (typeof m.content !== 'string' || m.content === '') {
      return { status: 400, message: `messages[${i}].content must be a non-empty string`, param: 'messages' };
    }
  }
  if (body.stream === true) return { status: 400, message: 'this server does not stream', param: 'stream' };
  if (body.n !== undefined && body.n !== 1) return { status: 400, message: 'n must be 1', param: 'n' };
  if (
    body.temperature !== undefined &&
    (typeof body.temperature !== 'number' || body.temperature < 0 || body.temperature > 2)
  ) {
    return { status: 400, message: 'temperature must be within [0, 2]', param: 'temperature' };
  }
  if (body.max_tokens !== undefined && body.max_completion_tokens !== undefined) {
    return { status: 400, message: 'max_tokens and max_completion_tokens are mutually exclusive', param: 'max_tokens' };
  }
  for (const k of ['max_tokens', 'max_completion_tokens']) {
    const v = body[k];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) {
      return { status: 400, message: `${k} must be a positive integer`, param: k };
    }
  }
  const rf = body.response_format as Record<string, unknown> | undefined;
  if (rf !== undefined) {
    if (!rf || typeof rf !== 'object')
      return { status: 400, message: 'response_format must be an object', param: 'response_format' };
    if (rf.type === 'json_schema') {
      if (!opts.jsonSchema) {
        return {
          status: 400,
          message: "response_format.type 'json_schema' is not supported by this server",
          param: 'response_format',
        };
      }
      const js = rf.json_schema as Record<string, unknown> | undefined;
      if (!js || typeof js.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(js.name)) {
        return {
          status: 400,
          message: 'response_format.json_schema.name must match ^[a-zA-Z0-9_-]{1,64}$',
          param: 'response_format',
        };
      }
      if (js.strict === true) {
        const problem = strictSchemaProblem(js.schema);
        if (problem)
          return {
            status: 400,
            message: `Invalid schema for response_format '${js.name}': ${problem}`,
            param: 'response_format',
          };
        if ((js.schema as Record<string, unknown>).type !== 'object') {
          return { status: 400, message: 'the root of a strict schema must be an object', param: 'response_format' };
        }
      }
    } else if (rf.type === 'json_object') {
      if (!opts.jsonObject) {
        return { status: 400, message: 'response_format is not supported by this server', param: 'response_format' };
      }
      if (!messages.some((m: { content: string }) => m.content.includes('json'))) {
        return {
          status: 400,
          message:
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
          param: 'messages',
        };
      }
    } else if (rf.type !== 'text') {
      return {
        status: 400,
        message: `response_format.type: invalid value ${JSON.stringify(rf.type)}`,
        param: 'response_format',
      };
    }
  }
  return undefined;
}

export async function startScriptedServer(opts: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const models = opts.models ?? ['test-model'];
  const caps: Capabilities = {
    models,
    jsonSchema: opts.jsonSchema ?? true,
    jsonObject: opts.jsonObject ?? true,
    maxCompletionTokens: opts.maxCompletionTokens ?? true,
  };
  const script: Reply[] = [];
  const requests: Recorded[] = [];
  const violations: string[] = [];
  const sockets = new Set<import('node:net').Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: Record<string, unknown> = {};
    const rec: Recorded = {
      at: performance.now(),
      path: url.pathname + url.search,
      headers: req.headers,
      body,
      answered: 0,
    };
    requests.push(rec);
    const refuse = (status: number, message: string, param: string | null = null, code: string | null = null) => {
      violations.push(`${status} ${message}`);
      rec.answered = status;
      apiError(res, status, message, param, code);
    };
    if (req.method !== 'POST') return refuse(405, `method ${req.method} not allowed`);
    const expectedPath = opts.azureApiVersion
      ? /^\/openai\/deployments\/([^/]+)\/chat\/completions$/
      : /^\/v1\/chat\/completions$/;
    const pathMatch = expectedPath.exec(url.pathname);
    if (!pathMatch) return refuse(404, `no route ${url.pathname}`);
    if (opts.azureApiVersion && url.searchParams.get('api-version') !== opts.azureApiVersion) {
      return refuse(404, 'Resource not found (api-version)');
    }
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? ''))
      return refuse(415, 'content-type must be application/json');
    if (opts.azureApiVersion) {
      if (req.headers['api-key'] !== opts.apiKey) return refuse(401, 'Access denied due to invalid subscription key.');
      if (req.headers.authorization !== undefined)
        return refuse(400, 'unexpected Authorization header next to api-key');
    } else if (opts.apiKey === undefined) {
      if (req.headers.authorization !== undefined) return refuse(400, 'this server wants no Authorization header');
    } else if (req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return refuse(401, 'Incorrect API key provided', null, 'invalid_api_key');
    }
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      rec.body = body;
    } catch {
      return refuse(400, 'We could not parse the JSON body of your request.');
    }
    if (opts.azureApiVersion && body.model !== undefined && body.model !== pathMatch[1]) {
      // The deployment in the path decides; a body model naming another is a client bug.
      return refuse(400, `model ${String(body.model)} does not match deployment ${pathMatch[1]}`);
    }
    const problem = validate(opts.azureApiVersion ? { ...body, model: pathMatch[1] } : body, caps);
    if (problem) {
      // What a server refuses by design is the fallback under test, not a client bug.
      const expected =
        (problem.param === 'response_format' && !(caps.jsonSchema && caps.jsonObject)) ||
        (problem.param === 'max_completion_tokens' && !caps.maxCompletionTokens);
      rec.answered = problem.status;
      if (!expected) violations.push(`${problem.status} ${problem.message}`);
      return apiError(res, problem.status, problem.message, problem.param);
    }
    const reply = script.shift();
    if (!reply) return refuse(500, 'the script has no reply left for this request');
    if ('status' in reply) {
      rec.answered = reply.status;
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      return res.end(
        JSON.stringify(reply.body ?? { error: { message: `scripted ${reply.status}`, type: 'server_error' } }),
      );
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (res.destroyed || req.socket.destroyed) return;
    const content =
      reply.content === null ? null : typeof reply.content === 'string' ? reply.content : JSON.stringify(reply.content);
    const promptTokens = Math.ceil(JSON.stringify(body.messages).length / 4);
    const completionTokens = Math.ceil((content ?? reply.refusal ?? '').length / 4);
    const usage =
      reply.usage === null
        ? undefined
        : (reply.usage ?? { prompt_tokens: promptTokens, completion_tokens: completionTokens });
    rec.answered = 200;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: `chatcmpl-${requests.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, refusal: reply.refusal ?? null },
            finish_reason: reply.finishReason ?? 'stop',
            logprobs: null,
          },
        ],
        ...(usage ? { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } } : {}),
      }),
    );
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      violations.push(`server error: ${String(err)}`);
      if (!res.headersSent) apiError(res, 500, 'internal');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    baseURL: `${endpoint}/v1`,
    endpoint,
    requests,
    violations,
    push: (...replies) => script.push(...replies),
    pending: () => script.length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
