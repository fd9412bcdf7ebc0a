/**
 * Request/response logging to a JSONL file: one JSON line per request, written when the request
 * has fully ended (streams included), with the route taken, status, timings, usage and — when
 * `bodies` is on — the prompt and the answer text, each bounded.
 *
 * The file is written through pino's asynchronous destination (SonicBoom), opened in `setup` and
 * flushed and closed in `close`, so a reload never loses or interleaves lines. Lines are written
 * from `runtime.onRequestDone`, so requests that fail early (auth, unknown model) are logged too.
 */
import pino from 'pino';
import { definePlugin, mapEvents, type GatewayContext, type IRPart } from 'switchyard';

/** Options for {@link jsonlLog}. */
export interface JsonlLogOptions {
  /** File to append to (its directory is created). */
  file: string;
  /**
   * Also log the prompt and the answer text. Reading a stream's text re-encodes it for the
   * client (no byte-for-byte passthrough), so this costs a little. @default false
   */
  bodies?: boolean;
  /** Longest text kept per body field. @default 8_192 */
  maxBodyChars?: number;
}

const textOf = (parts: IRPart[]) => parts.map((p) => (p.type === 'text' || p.type === 'refusal' ? p.text : '')).join('');

function promptOf(ctx: GatewayContext, max: number): Array<{ role: string; text: string }> | undefined {
  const req = ctx.state.request;
  if (!req || req.operation !== 'chat') return undefined;
  try {
    const ir = req.ir;
    const all = [...ir.system.map((s) => ({ role: 'system', text: s.text })), ...ir.messages.map((m) => ({ role: m.role, text: textOf(m.content) }))];
    return all.map((m) => ({ role: m.role, text: m.text.slice(0, max) }));
  } catch {
    return undefined; // a malformed request: its 400 is logged without a prompt
  }
}

/** The answer text of a non-streamed result, read without changing it. */
function answerOf(ctx: GatewayContext): string | undefined {
  const r = ctx.state.result;
  if (r?.type === 'ir') return textOf(r.response.content);
  if (r?.type === 'json' && ctx.state.request.operation === 'chat') {
    try {
      return textOf(ctx.state.codecs.get(r.format)!.decodeResponse(r.body).content);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Appends one line per request to `file`.
 *
 * @example
 * ```ts
 * pipeline: [jsonlLog({ file: './logs/requests.jsonl', bodies: true })]
 * ```
 */
export function jsonlLog(opts: JsonlLogOptions) {
  const max = opts.maxBodyChars ?? 8_192;
  const answers = new WeakMap<GatewayContext, { text: string }>(); // per request, freed with it
  let dest: ReturnType<typeof pino.destination>;
  return definePlugin({
    name: 'jsonl-log',
    enforce: 'pre', // outermost: its stream observer sees the final output
    setup(runtime) {
      dest = pino.destination({ dest: opts.file, append: true, mkdir: true, sync: false });
      // Called once per request when it has fully ended (streams included) — also for requests
      // rejected before this plugin's middleware ran (auth, unknown model, bad JSON).
      runtime.onRequestDone((ctx, o) => {
        const s = ctx.state;
        if (!s.route?.inbound) return; // inference endpoints only: not /health, /admin ...
        const line = {
          time: new Date().toISOString(),
          requestId: s.requestId,
          path: ctx.path,
          format: s.request?.format,
          model: s.request?.model,
          stream: s.request?.stream,
          provider: s.target?.provider,
          targetModel: s.target?.model,
          attempts: s.attempts.length || undefined,
          status: o.status,
          error: o.error?.code,
          aborted: o.aborted || undefined,
          durationMs: o.durationMs,
          ttfbMs: o.ttfbMs,
          usage: o.usage,
          ...(opts.bodies ? { prompt: promptOf(ctx, max), answer: (s.request?.stream ? answers.get(ctx)?.text : answerOf(ctx))?.slice(0, max) } : {}),
        };
        dest.write(`${JSON.stringify(line)}\n`); // one write per line: lines never interleave
      });
    },
    async close() {
      // Runs once this version has drained: every line of its requests is written. Flush, close.
      await new Promise<void>((resolve) => {
        dest.once('close', () => resolve());
        dest.end();
      });
    },
    async middleware(ctx, next) {
      await next();
      if (!opts.bodies) return;
      // Observe the stream as it flows (kept up to `max` characters; the events pass unchanged).
      const answer = { text: '' };
      answers.set(ctx, answer);
      mapEvents(ctx, (ev) => {
        if (ev.type === 'text_delta' && answer.text.length < max) answer.text += ev.text.slice(0, max - answer.text.length);
        return ev;
      });
    },
  });
}
