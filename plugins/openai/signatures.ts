/**
 * Thinking signatures for OpenAI Chat clients (WIRE-FORMATS §4 #17). Chat has no field for
 * Anthropic `thinking.signature` / `redacted_thinking.data`, Responses `encrypted_content` or
 * Gemini `thoughtSignature`, and Chat clients drop reasoning from history anyway. When another
 * format answers a Chat client, the gateway keeps those tokens in its store, keyed by the id of
 * the tool call they preceded (`sig:<toolCallId>`), and puts them back into the assistant turn
 * when the client sends that tool call back, so a tool loop against Claude with thinking (or
 * Gemini 3) keeps working. Encoders emit only tokens of their own `origin`, so a restored turn is
 * harmless for any other target (the Chat encoder drops reasoning from history altogether).
 *
 * @module
 */
import { mapEvents } from '../../core/exchange.ts';
import type { IRMessage, IRPart, IRReasoning, IRResponse, IRStreamEvent, WireFormat } from '../../core/ir.ts';
import type { GatewayContext, Middleware } from '../../core/plugin.ts';
import type { Store } from '../../core/store.ts';

/** What the gateway keeps for one tool call (only non-empty entries are stored). */
export interface StashEntry {
  /** Reasoning parts with an opaque token that came after the previous call and before this one. */
  reasoning?: IRReasoning[];
  /** Gemini thought signature of the functionCall part. */
  thoughtSignature?: string;
}

/** Whether a reasoning part carries a token only its origin format can verify. */
export function hasToken(p: IRReasoning): boolean {
  return Boolean(p.signature || p.redacted || p.encrypted);
}

/**
 * The entries to store for an answer's content, in call order: each tool call gets the signed
 * reasoning that came after the previous call, and its own Gemini signature.
 *
 * @example
 * ```ts
 * collectStash([{ type: 'reasoning', text: 'hm', origin: 'anthropic', signature: 'S' }, call]);
 * // → [[call.id, { reasoning: [{ type: 'reasoning', text: 'hm', origin: 'anthropic', signature: 'S' }] }]]
 * ```
 */
export function collectStash(content: readonly IRPart[]): Array<[string, StashEntry]> {
  const out: Array<[string, StashEntry]> = [];
  let pending: IRReasoning[] = [];
  for (const p of content) {
    if (p.type === 'reasoning' && hasToken(p)) pending.push(p);
    else if (p.type === 'tool_call') {
      const entry: StashEntry = {};
      if (pending.length) entry.reasoning = pending;
      if (p.thoughtSignature) entry.thoughtSignature = p.thoughtSignature;
      pending = [];
      if (entry.reasoning || entry.thoughtSignature) out.push([p.id, entry]);
    }
  }
  return out;
}

/**
 * Folds stream events into the parts {@link collectStash} reads (signed reasoning and tool calls
 * only; text and arguments are not kept).
 *
 * @example
 * ```ts
 * const parts = streamParts();
 * for (const ev of events) parts.push(ev);
 * collectStash(parts.content);
 * ```
 */
export function streamParts(): { push(ev: IRStreamEvent): void; readonly content: IRPart[] } {
  const content: IRPart[] = [];
  let text = '';
  return {
    content,
    push(ev) {
      if (ev.type === 'reasoning_delta') text += ev.text;
      else if (ev.type === 'reasoning_end') {
        const { origin, signature, encrypted, id } = ev;
        content.push({ type: 'reasoning', text, origin, ...(signature ? { signature } : {}), ...(encrypted ? { encrypted } : {}), ...(id ? { id } : {}) });
        text = '';
      } else if (ev.type === 'reasoning_redacted') content.push({ type: 'reasoning', text: '', origin: ev.origin, redacted: ev.data });
      else if (ev.type === 'tool_call_start') {
        content.push({ type: 'tool_call', id: ev.id, name: ev.name, arguments: '', ...(ev.thoughtSignature ? { thoughtSignature: ev.thoughtSignature } : {}) });
      }
    },
  };
}

/**
 * The assistant turn to restore: the last one with tool calls, unless it already carries a
 * signed reasoning part or a Gemini signature (restored by an earlier attempt, or kept by the
 * client). Returns its index and its tool-call ids.
 *
 * @example
 * ```ts
 * stashTarget([{ role: 'assistant', content: [call] }, { role: 'user', content: [result] }]); // → { index: 0, ids: [call.id] }
 * ```
 */
export function stashTarget(messages: readonly IRMessage[]): { index: number; ids: string[] } | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== 'assistant') continue;
    const ids = m.content.flatMap((p) => (p.type === 'tool_call' ? [p.id] : []));
    if (!ids.length) continue;
    const signed = m.content.some((p) => (p.type === 'reasoning' && hasToken(p)) || (p.type === 'tool_call' && p.thoughtSignature));
    return signed ? undefined : { index: i, ids };
  }
  return undefined;
}

/**
 * An assistant turn's content with the stashed tokens back: the first call's reasoning at the
 * start of the turn (where Anthropic wants thinking), a later call's reasoning just before it,
 * Gemini signatures on their calls. Unsigned reasoning (a client echoing `reasoning_content`) is
 * replaced by the restored reasoning. Returns undefined when nothing was found.
 *
 * @example
 * ```ts
 * restoreStash([{ type: 'text', text: 'Checking.' }, call], new Map([[call.id, { reasoning: [thinking] }]]));
 * // → [thinking, { type: 'text', text: 'Checking.' }, call]
 * ```
 */
export function restoreStash(content: readonly IRPart[], found: ReadonlyMap<string, StashEntry>): IRPart[] | undefined {
  const lead: IRPart[] = [];
  const out: IRPart[] = [];
  let changed = false;
  let first = true;
  for (const p of content) {
    if (p.type !== 'tool_call') {
      out.push(p);
      continue;
    }
    const e = found.get(p.id);
    if (e?.reasoning?.length) {
      (first ? lead : out).push(...e.reasoning);
      changed = true;
    }
    first = false;
    if (e?.thoughtSignature) changed = true;
    out.push(e?.thoughtSignature ? { ...p, thoughtSignature: e.thoughtSignature } : p);
  }
  if (!changed) return undefined;
  const restored = lead.length || out.some((p) => p.type === 'reasoning' && hasToken(p));
  return [...lead, ...(restored ? out.filter((p) => p.type !== 'reasoning' || hasToken(p)) : out)];
}

/**
 * The part of an entry a target of `format` can verify: reasoning of its own origin, Gemini
 * signatures for Gemini (an in-process `ir` provider takes everything). Signatures are
 * provider-specific (§4 #17), so a conversation that moved to another format gets none.
 *
 * @example
 * ```ts
 * usableBy({ reasoning: [anthropicThinking] }, 'gemini'); // → undefined
 * ```
 */
export function usableBy(e: StashEntry, format: WireFormat | 'ir'): StashEntry | undefined {
  const reasoning = e.reasoning?.filter((p) => format === 'ir' || p.origin === format) ?? [];
  const sig = format === 'gemini' || format === 'ir' ? e.thoughtSignature : undefined;
  if (!reasoning.length && !sig) return undefined;
  return { ...(reasoning.length ? { reasoning } : {}), ...(sig ? { thoughtSignature: sig } : {}) };
}

/** What the middleware needs once the plugin is set up. */
export interface StashDeps {
  /** The plugin's namespaced store. */
  store: Store;
  /** A configured provider's wire format (`ir` for in-process providers). */
  formatOf(provider: string): WireFormat | 'ir' | undefined;
}

/**
 * The middleware: for a Chat client's chat request answered by a provider of another format,
 * restores the last tool-calling turn's tokens before the call and stashes the answer's after it.
 * Runs once per attempt (after `failover`); anything else passes straight through.
 *
 * @example
 * ```ts
 * middleware: signaturesMiddleware(() => deps, 3_600_000)
 * ```
 */
export function signaturesMiddleware(deps: () => StashDeps, ttlMs: number): Middleware {
  // Passthrough (and every other format) goes straight on: no store access, no async frame.
  return function chatSignatures(ctx, next) {
    const req = ctx.state.request;
    if (req.format !== 'openai' || req.operation !== 'chat') return next();
    const target = ctx.state.target ?? ctx.state.candidates[0];
    const format = target && deps().formatOf(target.provider);
    if (!format || format === 'openai') return next();
    return stash(ctx, next, format);
  };

  async function stash(ctx: GatewayContext, next: () => Promise<void>, format: WireFormat | 'ir'): Promise<void> {
    const req = ctx.state.request;
    const spot = stashTarget(req.ir.messages);
    if (spot) {
      const keys = spot.ids.map((id) => `sig:${id}`);
      const entries = await deps()
        .store.getMany<Array<StashEntry>>(keys)
        .catch((err: unknown) => {
          ctx.state.logger.warn({ err: String(err) }, 'could not read stashed thinking signatures');
          return [] as Array<StashEntry | undefined>; // go on without them: the upstream decides
        });
      const found = new Map<string, StashEntry>();
      spot.ids.forEach((id, i) => {
        const e = entries[i] && usableBy(entries[i], format);
        if (e) found.set(id, e);
      });
      const content = found.size ? restoreStash(req.ir.messages[spot.index]!.content, found) : undefined;
      if (content) req.rewrite((ir) => void (ir.messages[spot.index] = { ...ir.messages[spot.index]!, content }));
    }
    await next();
    if (req.ir.tools?.length) observe(ctx, (content) => save(ctx, collectStash(content)));
  }

  function save(ctx: GatewayContext, entries: Array<[string, StashEntry]>): void {
    if (!entries.length) return;
    const store = deps().store;
    const done = Promise.all(entries.map(([id, e]) => store.set(`sig:${id}`, e, { ttlMs })));
    done.catch((err) => ctx.state.logger.warn({ err: String(err) }, 'could not stash thinking signatures'));
  }
}

/** Calls `seen(content)` with the answer's parts, without changing what the client receives. */
function observe(ctx: GatewayContext, seen: (content: IRPart[]) => void): void {
  const r = ctx.state.result;
  if (!r) return;
  if (r.type === 'ir') return seen(r.response.content);
  if (r.type === 'json') {
    if (r.format === 'openai') return;
    let res: IRResponse;
    try {
      res = ctx.state.codecs.get(r.format)!.decodeResponse(r.body);
    } catch {
      return; // the client gets the same failure from the answer's encoding
    }
    // Decoded once: the answer is encoded for the client from this (a result with headers keeps its shape).
    if (!r.headers) ctx.state.result = { type: 'ir', response: res };
    return seen(res.content);
  }
  if (r.type === 'sse' && r.format === 'openai') return; // a relayed Chat stream stays byte for byte
  const parts = streamParts();
  const flush = () => {
    seen(parts.content);
    return [];
  };
  const look = (ev: IRStreamEvent) => {
    parts.push(ev);
    return ev;
  };
  mapEvents(ctx, look, { flush });
}
