/**
 * The dry run behind `POST /admin/routing/decide`: builds the request a client would have sent,
 * runs every routing plugin's `plan` in pipeline order with `ctx.state.dryRun` set, and turns
 * the notes they left into an ordered explanation.
 *
 * @module
 */
import { GatewayError, invalidRequest } from '../../core/errors.ts';
import type { WireFormat } from '../../core/ir.ts';
import type { GatewayContext, GatewayRequest, Plugin, Target } from '../../core/plugin.ts';
import { isRoutingPlugin, targetId, type RouteNote } from '../models/routing.ts';

/** One target in the explanation. */
export interface ExplainedTarget {
  /** 1-based attempt order (absent for skipped targets). */
  position?: number;
  provider: string;
  model: string;
  decision: 'kept' | 'reordered' | 'skipped';
  /** `plugin: reason`, in the order the plugins decided. */
  reasons: string[];
}

/** The answer of the decide endpoint. */
export interface Decision {
  model: string;
  format: WireFormat;
  candidates: ExplainedTarget[];
  skipped: ExplainedTarget[];
  /** Set when routing itself would fail (unknown model, every target cooling down ...). */
  error?: { status: number; code: string; message: string };
}

const FORMATS: readonly WireFormat[] = ['openai', 'anthropic', 'gemini', 'responses'];

/**
 * Reads a JSON object body of at most `limit` bytes (413 beyond, 400 when not a JSON object).
 *
 * @example
 * ```ts
 * const body = await readJson(ctx, runtime.config.server.bodyLimit);
 * ```
 */
export async function readJson(ctx: GatewayContext, limit: number): Promise<Record<string, unknown>> {
  // Listeners, not for-await: past the limit the rest is drained so the 413 can still be written.
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    ctx.req.on('data', (c: Buffer) => void ((size += c.length) <= limit && chunks.push(c)));
    ctx.req.on('end', () =>
      size > limit
        ? reject(new GatewayError('request_too_large', `request body exceeds the limit of ${limit} bytes`, { status: 413 }))
        : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    ctx.req.on('error', reject);
  });
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new GatewayError('invalid_json', 'the request body is not valid JSON', { status: 400 });
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalidRequest('the request body must be a JSON object');
  return v as Record<string, unknown>;
}

/** The request a client would have sent: `?format=` picks the wire format (and `?model=` for Gemini). */
function dryRequest(ctx: GatewayContext, body: Record<string, unknown>): GatewayRequest {
  const format = (ctx.query.format ?? 'openai') as WireFormat;
  if (!FORMATS.includes(format)) throw invalidRequest(`"format" must be one of ${FORMATS.join(', ')}`, 'format');
  const model = typeof ctx.query.model === 'string' ? ctx.query.model : body.model;
  if (typeof model !== 'string' || !model) throw invalidRequest('you must provide a model parameter', 'model');
  const codec = ctx.state.codecs.get(format);
  const stream = body.stream === true;
  let ir: GatewayRequest['ir'] | undefined;
  return {
    format,
    operation: 'chat',
    model,
    stream,
    body,
    headers: ctx.headers,
    query: ctx.query as Record<string, string>,
    get ir() {
      if (!codec) throw invalidRequest(`the "${format}" format is not enabled`, 'format');
      ir ??= codec.decodeRequest(body, { model, stream });
      return ir;
    },
    rewritten: false,
    rewrite(edit) {
      edit(this.ir);
    },
  };
}

/**
 * Runs the routing plugins' plans as a dry run on the admin request's context and explains.
 *
 * @example
 * ```ts
 * ctx.body = await decide(ctx, runtime.plugins, await readJson(ctx, limit));
 * ```
 */
export async function decide(ctx: GatewayContext, plugins: readonly Plugin[], body: Record<string, unknown>): Promise<Decision> {
  const request = dryRequest(ctx, body);
  const notes: RouteNote[] = [];
  Object.assign(ctx.state, { request, candidates: [], attempts: [], routeNotes: notes, dryRun: true });
  let error: Decision['error'];
  try {
    for (const p of plugins.filter(isRoutingPlugin)) await p.plan(ctx);
  } catch (err) {
    if (!(err instanceof GatewayError) || err.status >= 500 && !err.expose) throw err;
    error = { status: err.status, code: err.code, message: err.message };
    ctx.state.candidates = [];
  }
  const reasons = new Map<string, RouteNote[]>();
  for (const n of notes) reasons.set(targetId(n), [...(reasons.get(targetId(n)) ?? []), n]);
  const explain = (t: Pick<Target, 'provider' | 'model'>, position?: number): ExplainedTarget => {
    const mine = reasons.get(targetId(t)) ?? [];
    const skipped = mine.some((n) => n.action === 'skipped');
    const reordered = mine.some((n) => n.action === 'reordered');
    return {
      ...(position ? { position } : {}),
      provider: t.provider,
      model: t.model,
      decision: skipped && position === undefined ? 'skipped' : reordered ? 'reordered' : 'kept',
      reasons: mine.map((n) => `${n.by}: ${n.reason}`),
    };
  };
  const final = new Set(ctx.state.candidates.map(targetId));
  const skipped = [...reasons.entries()].filter(([id, ns]) => !final.has(id) && ns.some((n) => n.action === 'skipped'));
  return {
    model: request.model,
    format: request.format,
    candidates: ctx.state.candidates.map((t, i) => explain(t, i + 1)),
    skipped: skipped.map(([, ns]) => explain(ns[0]!)),
    ...(error ? { error } : {}),
  };
}
