/**
 * Test helpers for plugin authors: a real gateway on a free port with an inline config or a
 * config file, optional mock upstreams started first and stopped with it, quiet logs, and one
 * call to stop everything.
 *
 * @module
 */
import type { DestinationStream } from 'pino';
import type { ConfigEnv, UserConfig } from './config.ts';
import { startGateway, type Gateway } from './gateway.ts';
import type { Builtins } from './pipeline.ts';

/** Anything a test starts that listens on a URL: a mock upstream server, a fake API. */
export interface TestUpstream {
  /** Base URL, e.g. `http://127.0.0.1:53122`. */
  url: string;
  close(): Promise<void>;
}

/** An inline config that also sees the started upstreams. */
export type TestConfigFn<U> = (env: ConfigEnv & { upstreams: U }) => UserConfig | Promise<UserConfig>;

/** Options for {@link createTestGateway}. */
export interface TestGatewayOptions<U extends Record<string, TestUpstream> = Record<string, TestUpstream>> {
  /**
   * The config: an object, a function of `{ env, upstreams }`, or a path to a config file (a
   * file's config function receives `env`, so point it at upstreams through `env`).
   */
  config: UserConfig | TestConfigFn<U> | string;
  /** Upstreams to start before the gateway (by name); they are closed by `close()`. */
  upstreams?: { [K in keyof U]: () => Promise<U[K]> };
  /**
   * Extra environment for config functions, laid over `process.env` (never written to it). A
   * function receives the started upstreams, e.g. `(up) => ({ OPENAI_BASE_URL: up.oa.url })`.
   */
  env?: Record<string, string | undefined> | ((upstreams: U) => Record<string, string | undefined>);
  /** Log level for the gateway's logs. @default 'silent' ('info' when `logStream` is given) */
  logLevel?: string;
  /** Receives the gateway's log lines (JSON, secrets censored), e.g. to assert on access lines. */
  logStream?: DestinationStream;
  /** Watch a file config for changes. @default false */
  watch?: boolean;
}

/** A gateway started for a test. */
export interface TestGateway<U extends Record<string, TestUpstream> = Record<string, TestUpstream>> {
  /** Base URL, e.g. `http://127.0.0.1:53121`. */
  url: string;
  gateway: Gateway;
  /** The upstreams started for this gateway, by name. */
  upstreams: U;
  /** Stops the gateway (draining requests), then the upstreams. */
  close(): Promise<void>;
}

/**
 * Makes `createTestGateway` for a set of built-ins (the package root binds the defaults).
 *
 * @example
 * ```ts
 * const createTestGateway = makeCreateTestGateway(defaultBuiltins);
 * const gw = await createTestGateway({ config: { providers: { echo: mock() }, models: { demo: 'echo/echo' } } });
 * const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({...}) });
 * await gw.close();
 * ```
 */
export function makeCreateTestGateway(builtins: () => Builtins) {
  return async function createTestGateway<U extends Record<string, TestUpstream> = Record<string, TestUpstream>>(
    opts: TestGatewayOptions<U>,
  ): Promise<TestGateway<U>> {
    const upstreams = {} as U;
    const closeUpstreams = async () => {
      await Promise.all(Object.values(upstreams).map((u) => u.close()));
    };
    try {
      for (const [name, start] of Object.entries(opts.upstreams ?? {}) as Array<[keyof U, () => Promise<U[keyof U]>]>) {
        upstreams[name] = await start();
      }
      const extra = typeof opts.env === 'function' ? opts.env(upstreams) : (opts.env ?? {});
      const env = { ...process.env, ...extra };
      const c = opts.config;
      const gateway = await startGateway({
        ...(typeof c === 'string'
          ? { configPath: c }
          : { config: typeof c === 'function' ? (e: ConfigEnv) => (c as TestConfigFn<U>)({ ...e, upstreams }) : c }),
        env,
        host: '127.0.0.1',
        port: 0,
        watch: opts.watch ?? false,
        log: { level: opts.logLevel ?? (opts.logStream ? 'info' : 'silent'), format: 'json', destination: opts.logStream ?? { write: () => {} } },
        builtins,
      });
      return {
        url: gateway.url,
        gateway,
        upstreams,
        async close() {
          await gateway.close();
          await closeUpstreams();
        },
      };
    } catch (err) {
      await closeUpstreams();
      throw err;
    }
  };
}
