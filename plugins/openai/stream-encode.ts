/**
 * OpenAI Chat Completions streams, client side: IR events → `chat.completion.chunk` SSE ending in
 * `data: [DONE]` (WIRE-FORMATS §2.1), in the legacy `function_call` shape for clients that sent
 * `functions` (§4 #40, `legacy.ts`).
 *
 * @module
 */
import type { EncodeOptions, SSEMessage, StreamEncoder } from '../../core/codec.ts';
import type { FinishReason, IRStreamEvent, IRUsage } from '../../core/ir.ts';
import { newId, nowSeconds } from '../shared/codec-util.ts';
import { clientToolName } from '../shared/tool-names.ts';
import { renderStreamError } from './error.ts';
import { legacyCallDelta } from './legacy.ts';
import { encodeFinish, encodeUsage } from './response.ts';
import { TRUNCATED } from './stream.ts';
import type { Json } from './wire.ts';

/**
 * Creates an encoder that presents IR events as a Chat Completions stream for the client. With
 * `opts.legacyFunctions` the first tool call streams as `delta.function_call` (name, then argument
 * fragments; other calls are dropped, see `legacy.ts`) and the stream finishes with `function_call`.
 *
 * @example
 * ```ts
 * const enc = createStreamEncoder({ model: 'gpt-4o', includeUsage: true });
 * const messages = [...events.flatMap((e) => enc.push(e)), ...enc.end()];
 * ```
 */
export function createStreamEncoder(opts: EncodeOptions): StreamEncoder {
  let id = '';
  let created = 0;
  let headed = false;
  let closed = false;
  let sawCall = false;
  let reason: FinishReason | undefined;
  let usage: IRUsage | undefined;
  const nameOf = clientToolName(opts);

  // With include_usage, OpenAI sends `usage: null` on every chunk but the trailing usage chunk.
  const chunk = (choices: Json[], extra: Json = {}): SSEMessage => ({
    data: JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model: opts.model,
      choices,
      ...(opts.includeUsage ? { usage: null } : {}),
      ...extra,
    }),
  });
  const delta = (d: Json, finishReason: string | null = null) =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finishReason }]);
  const head = (out: SSEMessage[]) => {
    if (headed) return;
    headed = true;
    id ||= newId('chatcmpl-');
    created ||= nowSeconds();
    out.push(delta({ role: 'assistant', content: '', refusal: null }));
  };
  const emit = (out: SSEMessage[], d: Json) => {
    head(out);
    out.push(delta(d));
  };
  const legacy = (out: SSEMessage[], ev: Extract<IRStreamEvent, { type: 'tool_call_start' | 'tool_call_delta' }>) => {
    const d = legacyCallDelta(ev, nameOf);
    if (d) emit(out, d);
  };

  return {
    push(ev: IRStreamEvent): SSEMessage[] {
      if (closed) return [];
      const out: SSEMessage[] = [];
      switch (ev.type) {
        case 'start':
          if (!headed) {
            id = ev.id;
            created = ev.created ?? 0;
            if (ev.usage?.inputTokens !== undefined) usage = { inputTokens: ev.usage.inputTokens, outputTokens: ev.usage.outputTokens ?? 0 };
          }
          head(out);
          break;
        case 'text_delta':
          if (ev.text) emit(out, { content: ev.text });
          break;
        case 'refusal_delta':
          if (ev.text) emit(out, { refusal: ev.text });
          break;
        case 'reasoning_delta':
          // Vendor extension (DeepSeek-style `reasoning_content`); the OpenAI spec has no reasoning text.
          if (ev.text) emit(out, { reasoning_content: ev.text });
          break;
        case 'tool_call_start':
          sawCall = true;
          if (opts.legacyFunctions) legacy(out, ev);
          else emit(out, { tool_calls: [{ index: ev.index, id: ev.id, type: 'function', function: { name: nameOf(ev.name), arguments: '' } }] });
          break;
        case 'tool_call_delta':
          if (opts.legacyFunctions) legacy(out, ev);
          else if (ev.arguments) emit(out, { tool_calls: [{ index: ev.index, function: { arguments: ev.arguments } }] });
          break;
        case 'usage':
          usage = ev.usage;
          break;
        case 'finish':
          reason ??= ev.reason;
          break;
        case 'error':
          closed = true;
          out.push(...renderStreamError(ev.error));
          break;
        default:
          // reasoning_end / reasoning_redacted / tool_call_end: opaque tokens and block ends have no Chat form.
          break;
      }
      return out;
    },
    end(): SSEMessage[] {
      if (closed) return [];
      closed = true;
      if (reason === undefined) return renderStreamError(TRUNCATED);
      const out: SSEMessage[] = [];
      head(out);
      out.push(delta({}, encodeFinish(reason, sawCall, opts.legacyFunctions)));
      if (opts.includeUsage && usage) out.push(chunk([], { usage: encodeUsage(usage) }));
      out.push({ data: '[DONE]' });
      return out;
    },
  };
}
