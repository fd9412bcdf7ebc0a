/**
 * The built-in `mock()` provider: deterministic, in-process, no keys. It echoes the last user
 * message, streams in several chunks, calls a tool when tools are offered, and reports usage —
 * so the default config runs anywhere and every client format can be tried end to end.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { GatewayError } from '../../core/errors.ts';
import type { IRPart, IRRequest, IRResponse, IRStreamEvent, IRUsage } from '../../core/ir.ts';
import type { GatewayResult, Provider, ProviderCall } from '../../core/plugin.ts';
import { newId, nowSeconds } from '../shared/codec-util.ts';
import { estimatedCount } from '../shared/count-tokens.ts';

/** Options for {@link mock}. */
export interface MockOptions {
  /** Delay between streamed chunks, in ms. @default 0 */
  chunkDelayMs?: number;
  /** Delay before answering, in ms. @default 0 */
  latencyMs?: number;
  /** Embedding dimensions. @default 8 */
  dimensions?: number;
}

const estimate = (text: string) => Math.max(1, Math.ceil(text.length / 4));

function lastUserText(ir: IRRequest): string {
  for (let i = ir.messages.length - 1; i >= 0; i--) {
    const m = ir.messages[i]!;
    if (m.role !== 'user') continue;
    const texts: string[] = [];
    for (const p of m.content) {
      if (p.type === 'text') texts.push(p.text);
      if (p.type === 'tool_result') {
        texts.push(`tool result: ${typeof p.content === 'string' ? p.content : p.content.map((c) => (c.type === 'text' ? c.text : '')).join('')}`);
      }
    }
    if (texts.length) return texts.join('\n');
  }
  return '';
}

function promptText(ir: IRRequest): string {
  const parts = [...ir.system.map((s) => s.text)];
  for (const m of ir.messages) for (const p of m.content) if (p.type === 'text') parts.push(p.text);
  for (const t of ir.tools ?? []) parts.push(JSON.stringify(t.parameters));
  return parts.join('\n');
}

/** The answer the mock gives to a chat request. */
export function mockAnswer(ir: IRRequest): IRResponse {
  const text = lastUserText(ir);
  const lastIsToolResult = ir.messages.at(-1)?.content.some((p) => p.type === 'tool_result') ?? false;
  const tools = ir.tools ?? [];
  const choice = ir.toolChoice;
  const wantsTool = tools.length > 0 && choice?.type !== 'none' && !lastIsToolResult;
  const content: IRPart[] = [];
  let finish: IRResponse['finishReason'] = 'stop';
  if (wantsTool) {
    const name = choice?.type === 'tool' ? choice.name : tools[0]!.name;
    content.push({ type: 'tool_call', id: newId('call_'), name, arguments: JSON.stringify({ input: text }) });
    finish = 'tool_calls';
  } else {
    let out = text || '(empty)';
    if (ir.responseFormat && ir.responseFormat.type !== 'text') out = JSON.stringify({ echo: text });
    if (ir.maxTokens !== undefined && estimate(out) > ir.maxTokens) {
      out = out.slice(0, Math.max(1, ir.maxTokens * 4));
      finish = 'length';
    }
    content.push({ type: 'text', text: out });
  }
  const usage: IRUsage = { inputTokens: estimate(promptText(ir)), outputTokens: estimate(JSON.stringify(content)) };
  return { id: newId('mock_'), model: ir.model, created: nowSeconds(), content, finishReason: finish, usage };
}

/** Splits text into about `n` chunks on word boundaries. */
function chunks(text: string, n = 4): string[] {
  const words = text.split(/(?<=\s)/);
  const size = Math.max(1, Math.ceil(words.length / n));
  const out: string[] = [];
  for (let i = 0; i < words.length; i += size) out.push(words.slice(i, i + size).join(''));
  return out.length ? out : [''];
}

async function* streamAnswer(res: IRResponse, delayMs: number, signal: AbortSignal): AsyncGenerator<IRStreamEvent> {
  const pause = () => (delayMs > 0 ? new Promise((r) => setTimeout(r, delayMs)) : Promise.resolve());
  yield { type: 'start', id: res.id, model: res.model, created: res.created, usage: { inputTokens: res.usage!.inputTokens } };
  let index = 0;
  for (const part of res.content) {
    if (part.type === 'text') {
      for (const c of chunks(part.text)) {
        await pause();
        if (signal.aborted) return;
        yield { type: 'text_delta', text: c };
      }
    } else if (part.type === 'tool_call') {
      yield { type: 'tool_call_start', index, id: part.id, name: part.name };
      for (const c of chunks(part.arguments, 3)) {
        await pause();
        yield { type: 'tool_call_delta', index, arguments: c };
      }
      yield { type: 'tool_call_end', index: index++ };
    }
  }
  yield { type: 'finish', reason: res.finishReason };
  yield { type: 'usage', usage: res.usage! };
}

function embedding(input: string, dims: number): number[] {
  const hash = createHash('sha256').update(input).digest();
  return Array.from({ length: dims }, (_, i) => (hash[i % hash.length]! / 255) * 2 - 1);
}

/**
 * The built-in deterministic provider.
 *
 * @example
 * ```ts
 * providers: { echo: mock({ chunkDelayMs: 20 }) }, models: { demo: 'echo/echo' }
 * ```
 */
export function mock(opts: MockOptions = {}): Provider {
  const dims = opts.dimensions ?? 8;
  return {
    kind: 'mock',
    format: 'ir',
    async call(call: ProviderCall): Promise<GatewayResult> {
      if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
      const req = call.request;
      if (req.operation === 'embeddings') {
        const input = req.body.input;
        const items = Array.isArray(input) ? input.map(String) : [String(input)];
        return {
          type: 'json',
          format: 'openai',
          body: {
            object: 'list',
            model: call.target.model,
            data: items.map((t, i) => ({ object: 'embedding', index: i, embedding: embedding(t, dims) })),
            usage: { prompt_tokens: items.reduce((n, t) => n + estimate(t), 0), total_tokens: items.reduce((n, t) => n + estimate(t), 0) },
          },
        };
      }
      if (req.operation === 'completions') {
        const prompt = Array.isArray(req.body.prompt) ? req.body.prompt.join('\n') : String(req.body.prompt);
        return {
          type: 'json',
          format: 'openai',
          body: {
            id: newId('cmpl-'),
            object: 'text_completion',
            created: nowSeconds(),
            model: call.target.model,
            choices: [{ index: 0, text: prompt, finish_reason: 'stop', logprobs: null }],
            usage: { prompt_tokens: estimate(prompt), completion_tokens: estimate(prompt), total_tokens: 2 * estimate(prompt) },
          },
        };
      }
      if (req.operation === 'count_tokens') return estimatedCount(req);
      if (req.operation !== 'chat') {
        throw new GatewayError('unsupported_operation', `the mock provider does not support ${req.operation}`, { status: 400 });
      }
      const res = { ...mockAnswer(req.ir), model: call.target.model };
      if (!req.stream) return { type: 'ir', response: res };
      return { type: 'ir-stream', events: streamAnswer(res, opts.chunkDelayMs ?? 0, call.signal) };
    },
    async listModels() {
      return ['echo'];
    },
  };
}
