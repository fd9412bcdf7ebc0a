/**
 * The built-in plugins every gateway has: the inbound wire formats, `models` (inserted when a
 * pipeline lacks it), `admin` and the routing API; the default pipeline is `[failover()]`. Made
 * fresh for every pipeline version.
 *
 * @module
 */
import type { Builtins } from '../core/pipeline.ts';
import { admin } from './admin/index.ts';
import { metrics } from './metrics/index.ts';
import { models } from './models/index.ts';
import { failover } from './failover/index.ts';
import { routingAdmin } from './routing-admin/index.ts';
import { openaiFormat } from './openai/index.ts';
import { anthropicFormat } from './anthropic/index.ts';
import { geminiFormat } from './gemini/index.ts';
import { responsesFormat } from './responses/index.ts';

/**
 * The default built-ins, used by the CLI and `startGateway`.
 *
 * @example
 * ```ts
 * const gw = await startGateway({ configPath, builtins: defaultBuiltins });
 * ```
 */
export function defaultBuiltins(): Builtins {
  return {
    always: [openaiFormat(), anthropicFormat(), geminiFormat(), responsesFormat(), admin(), metrics(), routingAdmin()],
    ensure: [models()],
    defaults: [failover()],
  };
}
