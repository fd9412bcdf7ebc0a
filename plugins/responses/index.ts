/**
 * The OpenAI Responses format: inbound `POST /v1/responses` with `previous_response_id` served
 * from the gateway's own history, its codec, and the `openaiResponses()` provider.
 *
 * @module
 */
import { invalidRequest } from '../../core/errors.ts';
import { definePlugin, type Plugin } from '../../core/plugin.ts';
import type { Store } from '../../core/store.ts';
import { responsesCodec } from './codec.ts';
import { historyMiddleware } from './history.ts';

export { openaiResponses, type OpenAIResponsesOptions } from './provider.ts';
export { responsesCodec } from './codec.ts';

/** Options for {@link responsesFormat}. */
export interface ResponsesFormatOptions {
  /** How long a response stays available to `previous_response_id`. @default 3_600_000 (1 h) */
  historyTtlMs?: number;
}

/**
 * The Responses-format inbound endpoint. Included by default; runs early (`enforce: 'pre'`) so a
 * follow-up is expanded once per request, before routing.
 *
 * @example
 * ```ts
 * // codex: model_providers.gw = { base_url = "http://127.0.0.1:8787/v1", wire_api = "responses" }
 * ```
 */
export function responsesFormat(opts: ResponsesFormatOptions = {}): Plugin {
  let store: Store;
  return definePlugin({
    name: 'format-responses',
    enforce: 'pre',
    codec: responsesCodec,
    setup(runtime) {
      store = runtime.store;
    },
    middleware: historyMiddleware(() => store, opts.historyTtlMs ?? 3_600_000),
    routes: [
      {
        method: 'POST',
        path: '/v1/responses',
        inbound: {
          format: 'responses',
          operation: 'chat',
          validate(body) {
            if (body.input === undefined && body.previous_response_id === undefined) throw invalidRequest("Missing required parameter: 'input'.", 'input');
            if (body.input !== undefined && typeof body.input !== 'string' && !Array.isArray(body.input)) {
              throw invalidRequest("Invalid type for 'input': expected a string or an array.", 'input');
            }
          },
        },
      },
    ],
  });
}
