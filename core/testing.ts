/**
 * Test helpers for plugin authors: a real gateway on a free port with an inline config, quiet
 * logs, and one call to stop it.
 *
 * @module
 */
import pino from 'pino';
import type { ConfigExport } from './config.ts';
import { startGateway, type Gateway } from './gateway.ts';
import type { Builtins } from './pipeline.ts';

/** Options for {@link createTestGateway}. */
export interface TestGatewayOptions {
  /** An inline config (object or function of `{ env }`), or a path to a config file. */
  config: ConfigExport | string;
  /** Log level for the gateway's logs. @default 'silent' */
  logLevel?: string;
  /** Watch a file config for changes. @default false */
  watch?: boolean;
}

/** A gateway started for a test. */
export interface TestGateway {
  /** Base URL, e.g. `http://127.0.0.1:53121`. */
  url: string;
  gateway: Gateway;
  close(): Promise<void>;
}

/**
 * Starts a gateway on 127.0.0.1 with a random port.
 *
 * @example
 * ```ts
 * const gw = await createTestGateway({ config: { providers: { echo: mock() }, models: { demo: 'echo/echo' } } });
 * const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({...}) });
 * await gw.close();
 * ```
 */
export function makeCreateTestGateway(builtins: () => Builtins) {
  return async function createTestGateway(opts: TestGatewayOptions): Promise<TestGateway> {
    const logger = pino({ level: opts.logLevel ?? 'silent' });
    const gateway = await startGateway({
      ...(typeof opts.config === 'string' ? { configPath: opts.config } : { config: opts.config }),
      host: '127.0.0.1',
      port: 0,
      watch: opts.watch ?? false,
      logger,
      builtins,
    });
    return { url: gateway.url, gateway, close: () => gateway.close() };
  };
}
