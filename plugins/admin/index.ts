/**
 * The `admin` plugin: liveness (`GET /health`), readiness (`GET /ready`) and config reload
 * (`POST /admin/reload`). Admin routes are loopback-only until a plugin provides an admin guard
 * (the auth plugin does).
 *
 * @module
 */
import { definePlugin, type GatewayRuntime, type Plugin } from '../../core/plugin.ts';

/** How long `/ready` waits for the store's ping before calling it unreachable. */
const STORE_PING_TIMEOUT_MS = 1_000;

/** Pings the store, bounded: a hung backing must not hang the load balancer's probe. */
async function storeReachable(runtime: GatewayRuntime): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), STORE_PING_TIMEOUT_MS)));
  try {
    return await Promise.race([runtime.sharedStore.ping().catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Health, readiness and reload endpoints. Included by default.
 *
 * - `GET /health` — liveness: 200 while the process serves, nothing else checked. While the
 *   store is known to be unreachable the body says so: `{status:'ok', store:{type, reachable:false, failurePolicy}}`.
 * - `GET /ready` — 200 `{status:'ready'}` when a config is loaded and the store answers; 503
 *   `{status:'unavailable', reason}` when shutdown has begun (so a load balancer stops sending
 *   new work while in-flight streams finish) or the store is unreachable under `fail-closed`.
 *   Under `fail-open` the instance keeps serving, so it stays ready — 200
 *   `{status:'ready', store:'unreachable', failurePolicy:'fail-open'}` — rather than every
 *   instance sharing that Redis leaving the balancer at once.
 *
 * Both are probes: their access line is written at `debug` when they succeed, at `info` when not.
 *
 * @example
 * ```ts
 * // curl -X POST http://127.0.0.1:8787/admin/reload
 * ```
 */
export function admin(): Plugin {
  let runtime: GatewayRuntime;
  return definePlugin({
    name: 'admin',
    setup(r) {
      runtime = r;
    },
    routes: [
      {
        method: 'GET',
        path: '/health',
        probe: true,
        handler(ctx) {
          const store = runtime.sharedStore.status();
          ctx.body = store.reachable ? { status: 'ok' } : { status: 'ok', store };
        },
      },
      {
        method: 'GET',
        path: '/ready',
        probe: true,
        async handler(ctx) {
          const { closing, version } = runtime.status();
          const storeUp = closing || (await storeReachable(runtime));
          const failOpen = runtime.sharedStore.status().failurePolicy === 'fail-open';
          const reason = closing ? 'shutting down' : storeUp || failOpen ? undefined : 'store unreachable';
          ctx.status = reason ? 503 : 200;
          ctx.set('cache-control', 'no-store');
          if (reason) ctx.body = { status: 'unavailable', reason, version };
          else ctx.body = storeUp ? { status: 'ready', version } : { status: 'ready', version, store: 'unreachable', failurePolicy: 'fail-open' };
        },
      },
      {
        method: 'POST',
        path: '/admin/reload',
        access: 'admin',
        async handler(ctx) {
          const result = await runtime.reload('POST /admin/reload');
          ctx.status = result.ok ? 200 : 422;
          ctx.body = result;
        },
      },
    ],
  });
}
