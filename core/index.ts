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
} from './plugin.ts';
export { mapEvents, mapResponse } from './exchange.ts';
export { GatewayError, ConfigError, UpstreamError, invalidRequest } from './errors.ts';
export type { Store, TtlOptions, StoreConfig } from './store.ts';
export { memoryStore } from './store.ts';
export type * from './ir.ts';
export type { Codec, SSEMessage, StreamDecoder, StreamEncoder, EncodeOptions, DecodeOptions } from './codec.ts';
export { callHttp, upstreamBody, scrub } from './http-provider.ts';
export type { Gateway, ReloadResult } from './gateway.ts';
export type { Builtins } from './pipeline.ts';
export type { TestGateway, TestGatewayOptions } from './testing.ts';

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
export { models, orderTargets, type ModelsOptions } from '../plugins/models/index.ts';
export { admin } from '../plugins/admin/index.ts';
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
 * Starts a real gateway on a free port for a test, with quiet logs.
 *
 * @example
 * ```ts
 * const gw = await createTestGateway({ config: { providers: { echo: mock() }, models: { demo: 'echo/echo' } } });
 * // ... requests against gw.url ...
 * await gw.close();
 * ```
 */
export const createTestGateway = makeCreateTestGateway(defaultBuiltins);
