/**
 * The `routing-admin` plugin: the routing API, JSON under `/admin` (behind the admin guard).
 *
 * - `GET /admin/providers`: configured providers (kind, format, base URL, timeout, discovered models)
 * - `GET /admin/models`: every routable name with its targets and each target's health
 * - `POST /admin/routing/decide`: a dry run — the ordered candidates for a request body, with
 *   the reason each target was kept, reordered or skipped
 * - `GET /admin/sessions/:id`, `DELETE /admin/sessions/:id`: a sticky session's bindings and context
 *
 * It reads the other plugins through what they expose (`plan`, `catalog`, `health`,
 * `getSession`), so it explains custom routing plugins too. Included by default.
 *
 * @module
 */
import type { ResolvedConfig } from '../../core/config.ts';
import { GatewayError } from '../../core/errors.ts';
import { definePlugin, type GatewayRuntime, type Plugin, type Target } from '../../core/plugin.ts';
import type { FailoverPlugin, TargetHealth } from '../failover/index.ts';
import type { CatalogEntry, ModelsPlugin } from '../models/index.ts';
import type { StickyPlugin } from '../sticky/index.ts';
import { decide, readJson } from './decide.ts';

export type { Decision, ExplainedTarget } from './decide.ts';

const has = <K extends string>(p: Plugin, method: K): p is Plugin & Record<K, (...args: never[]) => unknown> =>
  typeof (p as unknown as Record<string, unknown>)[method] === 'function';

function find<T extends Plugin>(plugins: readonly Plugin[], method: string): T | undefined {
  return plugins.find((p) => has(p, method)) as T | undefined;
}

/** A URL without credentials in it. */
function safeURL(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return null;
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function showHealth(h: TargetHealth) {
  return { circuit: h.circuit, failures: h.failures, openUntil: iso(h.openUntil), unavailableUntil: iso(h.unavailableUntil) };
}

function catalogOf(config: ResolvedConfig): CatalogEntry[] {
  return Object.entries(config.models).map(([name, targets]) => ({ name, via: name.includes('*') ? 'wildcard' : 'logical', targets: [...targets] }));
}

/**
 * The routing API. Part of the built-ins; list it only to replace it.
 *
 * @example
 * ```ts
 * // curl -s localhost:8787/admin/routing/decide -H 'x-session-id: s1' -d '{"model":"fast","messages":[{"role":"user","content":"hi"}]}'
 * ```
 */
export function routingAdmin(): Plugin {
  let runtime: GatewayRuntime;
  const models = () => find<ModelsPlugin>(runtime.plugins, 'catalog');
  const failover = () => find<FailoverPlugin>(runtime.plugins, 'health');
  const sticky = () => {
    const s = find<StickyPlugin>(runtime.plugins, 'getSession');
    if (!s) throw new GatewayError('sessions_unavailable', 'sessions are kept by the sticky plugin, which is not in the pipeline', { status: 404 });
    return s;
  };
  const target = async (t: Target, f: FailoverPlugin | undefined) => ({
    provider: t.provider,
    model: t.model,
    priority: t.priority ?? 0,
    weight: t.weight ?? 1,
    ...(t.maxContextTokens !== undefined ? { maxContextTokens: t.maxContextTokens } : {}),
    ...(t.timeoutMs !== undefined ? { timeoutMs: t.timeoutMs } : {}),
    ...(t.retries !== undefined ? { retries: t.retries } : {}),
    ...(t.headers ? { headers: Object.keys(t.headers) } : {}), // names only: values may be secrets
    health: f && !t.model.includes('*') ? showHealth(await f.health(t)) : null,
  });

  return definePlugin({
    name: 'routing-admin',
    setup(r) {
      runtime = r;
    },
    routes: [
      {
        method: 'GET',
        path: '/admin/providers',
        access: 'admin',
        async handler(ctx) {
          const discovered = (await models()?.discovered()) ?? {};
          ctx.body = {
            providers: Object.entries(runtime.config.providers).map(([name, p]) => ({
              name,
              kind: p.kind,
              format: p.format,
              baseURL: safeURL(p.baseURL),
              timeoutMs: p.timeoutMs ?? null,
              discovered: discovered[name] ? { ...discovered[name], fetchedAt: iso(discovered[name].fetchedAt || undefined) } : null,
            })),
          };
        },
      },
      {
        method: 'GET',
        path: '/admin/models',
        access: 'admin',
        async handler(ctx) {
          const m = models();
          const f = failover();
          const entries = m ? await m.catalog() : catalogOf(runtime.config);
          ctx.body = {
            models: await Promise.all(
              entries.map(async (e) => ({
                name: e.name,
                via: e.via,
                ...(e.aliasOf ? { aliasOf: e.aliasOf } : {}),
                targets: await Promise.all(e.targets.map((t) => target(t, f))),
              })),
            ),
          };
        },
      },
      {
        method: 'POST',
        path: '/admin/routing/decide',
        access: 'admin',
        async handler(ctx) {
          ctx.body = await decide(ctx, runtime.plugins, await readJson(ctx, runtime.config.server.bodyLimit));
        },
      },
      {
        method: 'GET',
        path: '/admin/sessions/:id',
        access: 'admin',
        async handler(ctx) {
          const info = await sticky().getSession(ctx.params.id!);
          if (!info) throw new GatewayError('session_not_found', `no session "${ctx.params.id}"`, { status: 404 });
          ctx.body = info;
        },
      },
      {
        method: 'DELETE',
        path: '/admin/sessions/:id',
        access: 'admin',
        async handler(ctx) {
          const deleted = await sticky().deleteSession(ctx.params.id!);
          ctx.body = { session: ctx.params.id, deleted };
        },
      },
    ],
  });
}
