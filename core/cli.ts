/**
 * The `gateway` command: serve (default), `check`, `init`. Errors are one clear line on stderr
 * and a non-zero exit — never a stack trace.
 *
 * @module
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { loadConfig, type ResolvedConfig } from './config.ts';
import { GatewayError } from './errors.ts';
import { startGateway } from './gateway.ts';
import { orderPlugins, type Builtins } from './pipeline.ts';
import { defaultBuiltins } from '../plugins/defaults.ts';
import { initProject } from './init.ts';
import { isLogLevel, LOG_LEVELS } from './logging.ts';
import { runPrimary, workerMetrics } from './workers.ts';

const HELP = `usage:
  gateway [--config FILE] [--host H] [--port N] [--workers N] [--log-level L] [--log-format json|pretty]
  gateway check [--config FILE]
  gateway init [--force]

  --config FILE   config file (default ./gateway.config.ts)
  --host H        listen address (default: server.host, else 127.0.0.1)
  --port N        listen port (default: server.port, else 8787)
  --workers N     run N worker processes on the same port (node:cluster)
  --log-level L   ${LOG_LEVELS.join('|')} (wins over LOG_LEVEL and the config's log.level)
  --log-format F  json (default) or pretty (default on a terminal)`;

/**
 * Runs the CLI with `argv` (without node and script) and resolves to the exit code; serving
 * resolves only after a graceful shutdown.
 *
 * @example
 * ```ts
 * process.exitCode = await main(['check', '--config', 'gateway.config.ts']);
 * ```
 */
export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c', default: './gateway.config.ts' },
        host: { type: 'string' },
        port: { type: 'string', short: 'p' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        workers: { type: 'string', short: 'w' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n${HELP}`);
    return 2;
  }
  const { values, positionals } = args;
  const command = positionals[0] ?? 'serve';
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  try {
    if (command === 'check') return await check(values.config!);
    if (command === 'init') return await initProject(process.cwd(), { force: values.force! });
    if (command !== 'serve') {
      console.error(`error: unknown command "${command}"\n${HELP}`);
      return 2;
    }
    return await serve(values);
  } catch (err) {
    console.error(`error: ${err instanceof GatewayError ? err.message : (err as Error)?.message ?? String(err)}`);
    return 1;
  }
}

async function serve(values: Record<string, string | boolean | undefined>): Promise<number> {
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    console.error(`error: --port must be an integer 0-65535 (got "${values.port}")`);
    return 2;
  }
  const format = values['log-format'] as string | undefined;
  if (format !== undefined && format !== 'json' && format !== 'pretty') {
    console.error(`error: --log-format must be json or pretty (got "${format}")`);
    return 2;
  }
  const level = values['log-level'] as string | undefined;
  if (level !== undefined && !isLogLevel(level)) {
    console.error(`error: --log-level must be one of ${LOG_LEVELS.join(', ')} (got "${level}")`);
    return 2;
  }
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 256)) {
    console.error(`error: --workers must be an integer 1-256 (got "${values.workers}")`);
    return 2;
  }
  const log = { level, format: format as 'json' | 'pretty' | undefined };
  const configPath = values.config as string;
  if (workers !== undefined && cluster.isPrimary) {
    return runPrimary({ workers, configPath, log, announce: (url) => process.stdout.write(`listening on ${url}\n`) });
  }
  const worker = cluster.isWorker;
  const gw = await startGateway({
    configPath,
    host: values.host as string | undefined,
    port,
    log: worker ? { ...log, bindings: { worker: cluster.worker?.id, pid: process.pid } } : log,
    metrics: worker ? workerMetrics() : undefined,
    workerSlot: worker ? Number(process.env.SWITCHYARD_WORKER_SLOT) || undefined : undefined,
    builtins: defaultBuiltins,
  });
  if (!worker) process.stdout.write(`listening on ${gw.url}\n`); // the primary announces for workers
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return void (signal === 'disconnect' || process.exit(1)); // a second signal: stop now
      stopping = true;
      gw.logger.info({ signal }, 'signal received');
      gw.close().then(
        () => resolve(0),
        (err) => {
          gw.logger.error({ err: String(err) }, 'shutdown failed');
          resolve(1);
        },
      ).finally(() => worker && process.connected && process.disconnect?.()); // the IPC channel would keep a worker alive
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    // Workers: Ctrl-C reaches the whole process group, but only the primary's forwarded SIGTERM
    // should start the drain; a primary that vanished (kill -9) disconnects us.
    process.on('SIGINT', () => (worker ? undefined : stop('SIGINT')));
    if (worker) process.on('disconnect', () => stop('disconnect'));
  });
}

async function check(path: string): Promise<number> {
  const { config } = await loadConfig(path);
  process.stdout.write(describeConfig(config, defaultBuiltins()));
  return 0;
}

/** The routing table and pipeline order, as `gateway check` prints them. */
export function describeConfig(config: ResolvedConfig, builtins: Builtins): string {
  const lines = [`config ok: ${config.path}`, '', 'providers:'];
  for (const [name, p] of Object.entries(config.providers)) lines.push(`  ${name}  ${p.kind}${p.baseURL ? `  ${p.baseURL}` : ''}`);
  lines.push('', 'models:');
  const models = Object.entries(config.models);
  if (!models.length) lines.push('  (none; requests may name provider/model directly)');
  for (const [name, targets] of models) {
    const t = targets.map((x) => {
      const extra = [x.priority !== undefined && `priority ${x.priority}`, x.weight !== undefined && `weight ${x.weight}`].filter(Boolean);
      return `${x.provider}/${x.model}${extra.length ? ` (${extra.join(', ')})` : ''}`;
    });
    lines.push(`  ${name} → ${t.join(', ')}`);
  }
  const order = orderPlugins(config, builtins).filter((p) => p.middleware).map((p) => p.name);
  lines.push('', `pipeline: ${[...order, 'dispatch'].join(' → ')}`, '');
  return lines.join('\n');
}
