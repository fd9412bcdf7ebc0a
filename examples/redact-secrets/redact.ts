/**
 * A streaming guardrail: redacts secrets (API-key-like strings) from model output as it streams,
 * without buffering the stream. Secrets are runs of key characters (letters, digits, `_-+/=`),
 * so the only text ever held back is the trailing, unfinished run of a delta — it may be the
 * first half of a key that the next delta completes. Everything before it goes out at once.
 * A run longer than `maxHoldChars` is released (redacted) so memory stays bounded; if it held a
 * secret, the rest of that run is dropped too.
 */
import { definePlugin, mapEvents, mapResponse, type IRStreamEvent } from 'switchyard';

/** Key-shaped strings of well-known providers. */
export const DEFAULT_PATTERNS: RegExp[] = [
  /sk-[A-Za-z0-9_-]{16,}/, // OpenAI (sk-, sk-proj-), Anthropic (sk-ant-)
  /AIza[0-9A-Za-z_-]{30,}/, // Google
  /gh[pousr]_[A-Za-z0-9]{30,}/, // GitHub
  /AKIA[0-9A-Z]{16}/, // AWS access key id
  /xox[abprs]-[A-Za-z0-9-]{10,}/, // Slack
];

/** Options for {@link redactSecrets}. */
export interface RedactOptions {
  /** What counts as a secret (matched inside runs of key characters). @default DEFAULT_PATTERNS */
  patterns?: RegExp[];
  /** What a secret becomes. @default '[REDACTED]' */
  replacement?: string;
  /** Longest run held back while it may still grow into a secret. @default 1024 */
  maxHoldChars?: number;
}

/** An incremental redactor for one stream of text. */
export interface Redactor {
  /** Takes the next piece of text; returns what is safe to send now. */
  push(text: string): string;
  /** Returns whatever is still held (end of the text). */
  flush(): string;
}

const KEY_RUN_AT_END = /[A-Za-z0-9_\-+/=]*$/;
const KEY_RUN_AT_START = /^[A-Za-z0-9_\-+/=]*/;

/**
 * Makes a {@link Redactor}.
 *
 * @example
 * ```ts
 * const r = createRedactor();
 * r.push('my key is sk-abc') + r.push('defghijklmnopqrstu.') + r.flush(); // 'my key is [REDACTED].'
 * ```
 */
export function createRedactor(opts: RedactOptions = {}): Redactor {
  const patterns = (opts.patterns ?? DEFAULT_PATTERNS).map((p) => new RegExp(p.source, p.flags.includes('g') ? p.flags : `${p.flags}g`));
  const replacement = opts.replacement ?? '[REDACTED]';
  const maxHold = opts.maxHoldChars ?? 1024;
  const redact = (s: string) => patterns.reduce((out, p) => out.replace(p, replacement), s);
  let held = '';
  let dropping = false; // inside an over-long run that held a secret
  return {
    push(text) {
      if (dropping) {
        const run = KEY_RUN_AT_START.exec(text)![0];
        text = text.slice(run.length);
        if (!text) return '';
        dropping = false;
      }
      held += text;
      const cut = KEY_RUN_AT_END.exec(held)!.index;
      let out = redact(held.slice(0, cut)); // ends before a key run: every secret in it is whole
      held = held.slice(cut);
      if (held.length > maxHold) {
        const redacted = redact(held);
        dropping = redacted !== held;
        out += redacted;
        held = '';
      }
      return out;
    },
    flush() {
      const out = dropping ? '' : redact(held);
      held = '';
      dropping = false;
      return out;
    },
  };
}

type Channel = 'text_delta' | 'reasoning_delta' | 'refusal_delta';
const delta = (type: Channel, text: string): IRStreamEvent =>
  type === 'text_delta' ? { type, text } : type === 'reasoning_delta' ? { type, text } : { type, text };

/**
 * Redacts secrets from responses: streams event by event (text, reasoning and refusal deltas),
 * whole responses part by part. Place it first in the pipeline so it sees the final output,
 * whatever failover did.
 *
 * @example
 * ```ts
 * pipeline: [redactSecrets({ patterns: [...DEFAULT_PATTERNS, /acme_[a-z0-9]{24}/] })]
 * ```
 */
export function redactSecrets(opts: RedactOptions = {}) {
  return definePlugin({
    name: 'redact-secrets',
    async middleware(ctx, next) {
      await next();
      const whole = (text: string) => {
        const r = createRedactor(opts);
        return r.push(text) + r.flush();
      };
      mapResponse(ctx, (res) => ({
        ...res,
        content: res.content.map((p) => (p.type === 'text' || p.type === 'reasoning' || p.type === 'refusal' ? { ...p, text: whole(p.text) } : p)),
      }));
      // One redactor per stream; text of one kind is released before an event of another kind.
      const r = createRedactor(opts);
      let channel: Channel | undefined;
      const release = (): IRStreamEvent[] => {
        const rest = r.flush();
        const ch = channel;
        channel = undefined;
        return rest && ch ? [delta(ch, rest)] : [];
      };
      mapEvents(
        ctx,
        (ev) => {
          if (ev.type !== 'text_delta' && ev.type !== 'reasoning_delta' && ev.type !== 'refusal_delta') return [...release(), ev];
          const before = channel && channel !== ev.type ? release() : [];
          channel = ev.type;
          const text = r.push(ev.text);
          const keep = text || (ev.type === 'text_delta' && ev.thoughtSignature); // never drop a signature
          return [...before, ...(keep ? [{ ...ev, text }] : [])];
        },
        { flush: release },
      );
    },
  });
}
