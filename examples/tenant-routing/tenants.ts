/**
 * Route by tenant: the tenant comes from a header, each tenant has an allow-list of logical
 * models and may prefer a provider (its own dedicated deployment, say). The tenant id is added
 * to the context by declaration merging, so later plugins read `ctx.state.tenant`, typed.
 *
 * Place it after `models` (the default: `models` heads the normal tier), so the candidates exist
 * to reorder, and before `failover`, so it runs once per request.
 */
import { definePlugin, GatewayError, type Target } from 'switchyard';

declare module 'switchyard' {
  interface GatewayState {
    /** The tenant the request belongs to (set by `tenant-routing`). */
    tenant?: string;
  }
}

/** What one tenant may do. */
export interface TenantPolicy {
  /** Logical models the tenant may ask for; `'*'` allows all. */
  models: string[];
  /** A provider tried first for this tenant when it serves the asked model. */
  preferProvider?: string;
}

/** Options for {@link tenantRouting}. */
export interface TenantRoutingOptions {
  /** Header naming the tenant. @default 'x-tenant' */
  header?: string;
  tenants: Record<string, TenantPolicy>;
}

/**
 * Moves the preferred provider's targets to the front, keeping the order otherwise.
 *
 * @example
 * ```ts
 * ctx.state.candidates = preferProvider(ctx.state.candidates, 'acme-dedicated');
 * ```
 */
export function preferProvider(candidates: readonly Target[], provider: string | undefined): Target[] {
  if (!provider) return [...candidates];
  return [...candidates.filter((t) => t.provider === provider), ...candidates.filter((t) => t.provider !== provider)];
}

/**
 * Rejects unknown tenants (401) and models outside the tenant's allow-list (403), and reorders
 * candidates for the tenant's preferred provider. Errors reach the client in its own format.
 *
 * @example
 * ```ts
 * pipeline: [tenantRouting({ tenants: { acme: { models: ['fast'], preferProvider: 'acme-azure' } } })]
 * ```
 */
export function tenantRouting(opts: TenantRoutingOptions) {
  const header = opts.header ?? 'x-tenant';
  return definePlugin({
    name: 'tenant-routing',
    async middleware(ctx, next) {
      const id = ctx.get(header);
      if (!id) throw new GatewayError('tenant_required', `the ${header} header is required`, { status: 401 });
      const policy = Object.hasOwn(opts.tenants, id) ? opts.tenants[id] : undefined;
      if (!policy) throw new GatewayError('unknown_tenant', `unknown tenant "${id}"`, { status: 401 });
      const model = ctx.state.request.model;
      if (!policy.models.includes('*') && !policy.models.includes(model)) {
        throw new GatewayError('model_not_allowed', `tenant "${id}" may not use model "${model}"`, { status: 403, param: 'model' });
      }
      ctx.state.tenant = id;
      ctx.state.logger = ctx.state.logger.child({ tenant: id }); // every later log line names the tenant
      ctx.state.candidates = preferProvider(ctx.state.candidates, policy.preferProvider);
      await next();
    },
  });
}
