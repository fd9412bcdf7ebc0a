/**
 * `previous_response_id` for every provider: the gateway keeps recent responses' conversations
 * in its store (bounded by the store, with a TTL) and expands a follow-up into the full
 * conversation, so a Responses client can chain turns even when Anthropic or Gemini answers.
 *
 * @module
 */
import { GatewayError } from '../../core/errors.ts';
import { mapEvents } from '../../core/exchange.ts';
import type { IRMessage, IRResponse } from '../../core/ir.ts';
import type { GatewayContext, Middleware } from '../../core/plugin.ts';
import type { Store } from '../../core/store.ts';
import { accumulate } from '../shared/accumulate.ts';
import { responsesCodec } from './codec.ts';
import { responseId } from './wire.ts';

const TERMINAL = new Set(['response.completed', 'response.incomplete']);

interface Stored {
  messages: IRMessage[];
}

/** Builds the middleware; `store()` returns the plugin's namespaced store once set up. */
export function historyMiddleware(store: () => Store, ttlMs: number): Middleware {
  // Other formats pass straight through: no async frame of its own on their path.
  return function responsesHistory(ctx, next) {
    const req = ctx.state.request;
    if (req.format !== 'responses' || req.operation !== 'chat') return next();
    return remember(ctx, next);
  };

  async function remember(ctx: Parameters<Middleware>[0], next: () => Promise<void>): Promise<void> {
    const req = ctx.state.request;
    const prev = req.body.previous_response_id;
    if (prev !== undefined && prev !== null) {
      const rec = typeof prev === 'string' ? await store().get<Stored>(`resp:${prev}`) : undefined;
      if (!rec) {
        throw new GatewayError('previous_response_not_found', `Previous response with id '${String(prev)}' not found.`, {
          status: 400,
          param: 'previous_response_id',
        });
      }
      req.rewrite((ir) => {
        ir.messages = [...rec.messages, ...ir.messages];
      });
    }
    await next();
    if (req.body.store === false) return; // the client keeps its own history (Codex CLI)
    record(ctx, (id, res) => {
      const messages = [...req.ir.messages, { role: 'assistant' as const, content: res.content }];
      void store().set(`resp:${id}`, { messages } satisfies Stored, { ttlMs });
    });
  }
}

/** Calls `save(clientVisibleId, response)` once the answer is complete. */
function record(ctx: GatewayContext, save: (id: string, res: IRResponse) => void): void {
  const r = ctx.state.result;
  if (!r) return;
  const idFor = (id: string) => responseId(id, () => id);
  if (r.type === 'json' || r.type === 'ir') {
    let res: IRResponse;
    try {
      res = r.type === 'ir' ? r.response : ctx.state.codecs.get(r.format)!.decodeResponse(r.body);
    } catch {
      return; // failed/cancelled bodies are not history
    }
    if (r.type === 'json' && r.format !== 'responses') ctx.state.result = { type: 'ir', response: res };
    const id = r.type === 'json' && r.format === 'responses' ? String(r.body.id) : idFor(res.id);
    save(id, res);
    return;
  }
  if (r.type === 'sse' && r.format === 'responses') {
    // Passthrough: relay bytes untouched; read only the terminal event.
    const messages = r.messages;
    ctx.state.result = {
      ...r,
      messages: (async function* () {
        for await (const m of messages) {
          if (m.event && TERMINAL.has(m.event)) {
            try {
              const body = (JSON.parse(m.data) as { response: Record<string, unknown> }).response;
              save(String(body.id), responsesCodec.decodeResponse(body));
            } catch {
              // not recordable; the stream itself is unaffected
            }
          }
          yield m;
        }
      })(),
    };
    return;
  }
  const acc = accumulate();
  mapEvents(ctx, (ev) => {
    acc.push(ev);
    return ev;
  });
  ctx.state.onDone(() => {
    if (acc.ok) save(idFor(acc.result().id), acc.result());
  });
}
