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
 * - `GET /health` — liveness: 200 while the process serves, nothing else checked.
 * - `GET /ready` — 200 `{status:'ready'}` when a config is loaded and the store answers; 503
 *   `{status:'unavailable', reason}` when the store is unreachable or shutdown has begun (so a
 *   load balancer stops sending new work while in-flight streams finish).
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
        handler(ctx) {
          ctx.body = { status: 'ok' };
        },
      },
      {
        method: 'GET',
        path: '/ready',
        async handler(ctx) {
          const { closing, version } = runtime.status();
          const reason = closing ? 'shutting down' : (await storeReachable(runtime)) ? undefined : 'store unreachable';
          ctx.status = reason ? 503 : 200;
          ctx.set('cache-control', 'no-store');
          ctx.body = reason ? { status: 'unavailable', reason, version } : { status: 'ready', version };
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
