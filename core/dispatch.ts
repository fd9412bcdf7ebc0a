/**
 * The core's last step, `dispatch`: call the chosen target's provider with a {@link ProviderCall}.
 *
 * @module
 */
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { ResolvedConfig } from './config.ts';
import { GatewayError } from './errors.ts';
import type { GatewayContext, Middleware, ProviderCall, Target } from './plugin.ts';

/**
 * The core's last step: call the chosen target's provider (the target `failover` or `models` chose).
 *
 * @example
 * ```ts
 * const run = compose([...layers, dispatch(config, dispatcher)]);
 * ```
 */
export function dispatch(config: ResolvedConfig, dispatcher: Dispatcher): Middleware {
  return async function dispatch(ctx) {
    const target = ctx.state.target ?? ctx.state.candidates[0];
    if (!target) {
      throw new GatewayError('model_not_found', `model "${ctx.state.request.model}" is not configured`, { status: 404, param: 'model' });
    }
    ctx.state.target = target;
    const provider = config.providers[target.provider];
    if (!provider) throw new GatewayError('provider_not_found', `provider "${target.provider}" is not configured`, { status: 500 });
    ctx.state.result = await provider.call(new DispatchCall(target.provider, ctx, target, dispatcher));
  };
}

const CALL_CTX = Symbol('switchyard.call.ctx');
/** One getter for every call (the request's child logger is made on first use only). */
const LOGGER_PROPERTY: PropertyDescriptor = {
  get(this: DispatchCall) {
    return this[CALL_CTX].state.logger;
  },
  enumerable: true,
  configurable: true,
};
function callOnDone(this: DispatchCall, fn: () => void | Promise<void>): void {
  this[CALL_CTX].state.onDone(fn);
}

/**
 * The {@link ProviderCall} dispatch hands a provider. Not an object literal: a literal's
 * `get logger()` makes a dictionary-mode object per request whose getter closure holds the
 * request, and under load that kept every request's young objects alive through the next
 * scavenge (measured: 25–35 ms scavenges with ~10 MB promoted each; now ~1 ms). The accessor and
 * `onDone` are shared functions reading the context from a symbol-keyed own field, so
 * `{ ...call, request }` (stream-mode adaptation, third-party providers) still carries both.
 */
class DispatchCall implements ProviderCall {
  name: string;
  request: ProviderCall['request'];
  target: Target;
  signal: AbortSignal;
  dispatcher: Dispatcher;
  requestId: string;
  declare logger: Logger;
  onDone = callOnDone;
  [CALL_CTX]: GatewayContext;
  constructor(name: string, ctx: GatewayContext, target: Target, dispatcher: Dispatcher) {
    this.name = name;
    this.request = ctx.state.request;
    this.target = target;
    this.signal = ctx.state.signal;
    this.dispatcher = dispatcher;
    this.requestId = ctx.state.requestId;
    this[CALL_CTX] = ctx;
    Object.defineProperty(this, 'logger', LOGGER_PROPERTY);
  }
}
