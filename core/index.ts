/**
 * The package root, `switchyard`: everything public is exported from here, so a config file
 * writes `import { defineConfig, openai, mock } from 'switchyard'`.
 *
 * @module
 */
import { startGateway as start, type Gateway, type GatewayOptions } from './gateway.ts';
import { defaultBuiltins } from '../plugins/defaults.ts';
import { makeCreateTestGateway } from './testing.ts';

export { defineConfig, loadConfig, resolveConfig } from './config.ts';
export type { UserConfig, ResolvedConfig, ConfigExport, ConfigEnv, TargetSpec, PluginOption } from './config.ts';
export { definePlugin } from './plugin.ts';
export type {
  Plugin,
  Middleware,
  Route,
  RouteHandler,
  InboundSpec,
  GatewayContext,
  GatewayState,
  GatewayRuntime,
  GatewayRequest,
  GatewayResult,
  Provider,
  ProviderCall,
  Target,
  RequestOutcome,
  AttemptRecord,
  GatewayStatus,
} from './plugin.ts';
export { createLogger, redactLine, redactPaths, type LogOptions } from './logging.ts';
/** The logger type of `ctx.state.logger` and `runtime.logger` (pino's). */
export type { Logger } from 'pino';
export { createMetricsRegistry, type MetricsRegistry, type MetricsRegistryOptions } from './metrics.ts';
export { mapEvents, mapResponse, type MapEventsOptions } from './exchange.ts';
export { GatewayError, ConfigError, UpstreamError, invalidRequest, type GatewayErrorOptions } from './errors.ts';
export type { Store, StoreBacking, StoreStatus, TtlOptions, StoreConfig, FailurePolicy, LimitSpec, LimitWindow, ReserveResult, Adjustment } from './store.ts';
export { createStore, withNamespace } from './store.ts';
export { memoryStore, type MemoryStoreOptions } from './store-memory.ts';
export type * from './ir.ts';
export type { Codec, SSEMessage, StreamDecoder, StreamEncoder, EncodeOptions, DecodeOptions } from './codec.ts';
export { callHttp, passthroughBody, upstreamBody, scrub } from './http-provider.ts';
export { JsonText } from './upstream.ts';
export type { Gateway, ReloadResult } from './gateway.ts';
export type { Builtins } from './pipeline.ts';
export type { TestGateway, TestGatewayOptions, TestUpstream, TestConfigFn } from './testing.ts';

export { openai, openaiFormat, openaiCodec, type OpenAIOptions } from '../plugins/openai/index.ts';
export { anthropic, anthropicFormat, anthropicCodec, type AnthropicOptions } from '../plugins/anthropic/index.ts';
export { gemini, geminiFormat, geminiCodec, type GeminiOptions } from '../plugins/gemini/index.ts';
export {
  openaiResponses,
  responsesFormat,
  responsesCodec,
  type OpenAIResponsesOptions,
  type ResponsesFormatOptions,
} from '../plugins/responses/index.ts';
export { accumulate, type Accumulator } from '../plugins/shared/accumulate.ts';
export { mock, type MockOptions } from '../plugins/mock/index.ts';
export { processProvider, renderPrompt, type ProcessOptions, type ProcessProvider } from '../plugins/process/index.ts';
export { models, orderTargets, type ModelsOptions, type ModelsPlugin, type CatalogEntry } from '../plugins/models/index.ts';
export type { DiscoveryOptions } from '../plugins/models/discovery.ts';
export { explain, isRoutingPlugin, targetId, type RoutingPlugin, type RouteNote, type RouteAction } from '../plugins/models/routing.ts';
export { failover, type FailoverOptions, type FailoverPlugin, type CircuitOptions, type CircuitState, type TargetHealth } from '../plugins/failover/index.ts';
export { sticky, type StickyOptions, type StickyPlugin, type SessionSource, type SessionInfo, type SessionBinding, type Exchange } from '../plugins/sticky/index.ts';
export { routingAdmin, type Decision, type ExplainedTarget } from '../plugins/routing-admin/index.ts';
export { admin } from '../plugins/admin/index.ts';
export { auth, presentedKey, type AuthOptions, type GatewayKey, type KeyPolicy } from '../plugins/auth/index.ts';
export { rateLimit, type RateLimitOptions, type RateLimitPlugin, type LimitRule, type QuotaRule, type Scope, type Price } from '../plugins/rate-limit/index.ts';
export { usage, type UsageOptions, type UsageRecord, type UsageTotals, type Dimension } from '../plugins/usage/index.ts';
export { metrics, registerSeries, attemptOutcome, CIRCUIT_STATE, RATE_LIMIT_REJECTIONS, type MetricsOptions, type Series } from '../plugins/metrics/index.ts';
export { defaultBuiltins } from '../plugins/defaults.ts';

/**
 * Starts a gateway (the CLI's serve command, as a function). Built-in plugins default to the
 * standard set.
 *
 * @example
 * ```ts
 * import { startGateway } from 'switchyard';
 * const gw = await startGateway({ configPath: './gateway.config.ts', port: 0 });
 * // ... later
 * await gw.close();
 * ```
 */
export function startGateway(opts: Omit<GatewayOptions, 'builtins'> & Partial<Pick<GatewayOptions, 'builtins'>>): Promise<Gateway> {
  return start({ builtins: defaultBuiltins, ...opts });
}

/**
 * Starts a real gateway on a free port for a test, with quiet logs: an inline config or a config
 * file, optional upstream servers started first (and closed with it), extra `env` for config
 * functions. See docs/plugins.md § Testing a plugin.
 *
 * @example
 * ```ts
 * const gw = await createTestGateway({ config: { providers: { echo: mock() }, models: { demo: 'echo/echo' }, pipeline: [myPlugin()] } });
 * // ... requests against gw.url ...
 * await gw.close();
 * ```
 */
export const createTestGateway = makeCreateTestGateway(defaultBuiltins);
