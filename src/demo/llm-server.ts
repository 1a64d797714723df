/**
 * The demo's stand-in for a model: a tiny OpenAI-compatible chat-completions server on loopback that
 * answers from a script (demo/llm/answers.json) instead of generating. Repair requests are matched by a
 * string in the prompt, so one server serves both scenarios; self-critiques always get the scripted
 * critique. The LLM strategy talks to it exactly as it would to OpenAI, vLLM or Ollama.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { SutureError } from '../errors.ts';

export const DEMO_MODEL = 'suture-demo-scripted';

const scriptSchema = z.object({
  cases: z.array(z.object({ name: z.string(), match: z.string().min(1), answer: z.record(z.string(), z.unknown()) })),
  fallback: z.record(z.string(), z.unknown()),
  critique: z.record(z.string(), z.unknown()),
});
export type LlmScript = z.infer<typeof scriptSchema>;

export function loadScript(file: string): LlmScript {
  const parsed = scriptSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new SutureError('BAD_CONFIG', `${file}: not a demo LLM script`);
  return parsed.data;
}

/** Which scripted answer a chat request gets (pure): by the schema it asks for, then by its prompt. */
export function scriptedAnswer(script: LlmScript, body: unknown): { name: string; answer: object } {
  const b = (body ?? {}) as {
    messages?: { content?: unknown }[];
    response_format?: { json_schema?: { name?: string } };
  };
  const prompt = (b.messages ?? []).map((m) => (typeof m.content === 'string' ? m.content : '')).join('\n');
  const schema = b.response_format?.json_schema?.name ?? '';
  if (schema === 'suture_critique' || (!schema && /hidesErrors/.test(prompt)))
    return { name: 'critique', answer: script.critique };
  const hit = script.cases.find((c) => prompt.includes(c.match));
  return hit ? { name: hit.name, answer: hit.answer } : { name: 'fallback', answer: script.fallback };
}

export interface ScriptedLlm {
  baseURL: string;
  /** Names of the answers given, in order. */
  answered: string[];
  close(): Promise<void>;
}

export async function startScriptedLlm(script: LlmScript): Promise<ScriptedLlm> {
  const answered: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, doc: unknown) => {
        const text = JSON.stringify(doc);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions'))
        return send(404, { error: { message: 'not found', type: 'invalid_request_error' } });
      let body: { model?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
      }
      const { name, answer } = scriptedAnswer(script, body);
      answered.push(name);
      const content = JSON.stringify(answer);
      send(200, {
        id: `chatcmpl-demo-${answered.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: typeof body.model === 'string' ? body.model : DEMO_MODEL,
        choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1000, completion_tokens: Math.ceil(content.length / 4), total_tokens: 0 },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    answered,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
