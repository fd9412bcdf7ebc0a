/**
 * The `admin` plugin: liveness (`GET /health`) and config reload (`POST /admin/reload`).
 * Admin routes are loopback-only until a plugin provides an admin guard (the auth plugin does).
 *
 * @module
 */
import { definePlugin, type GatewayRuntime, type Plugin } from '../../core/plugin.ts';

/**
 * Health and reload endpoints. Included by default.
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
