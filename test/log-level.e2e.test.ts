/**
 * Log level precedence end to end: `--log-level` (the `log.level` option) > `LOG_LEVEL` > the
 * config's `log.level`, and a reload applies a changed config level when nothing fixed it.
 */
import { describe, expect, it } from 'vitest';
import { mock, startGateway, type UserConfig } from 'switchyard';

type Line = { msg?: string };
describe('log level', () => {
  /** Starts a gateway whose config says `level`, with `flag` as --log-level and `env` as LOG_LEVEL. */
  async function run(level: UserConfig['log'], flag: string | undefined, env: string | undefined) {
    const out: string[] = [];
    const saved = process.env.LOG_LEVEL;
    if (env === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = env;
    let config: UserConfig = { providers: { echo: mock() }, log: level };
    try {
      const g = await startGateway({
        config: () => config,
        host: '127.0.0.1',
        port: 0,
        log: { level: flag, format: 'json', destination: { write: (l: string) => void out.push(l) } },
      });
      config = { ...config, log: { level: 'info' } };
      await g.reload('level test');
      await fetch(`${g.url}/health`);
      await g.close();
    } finally {
      if (saved === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = saved;
    }
    return out.map((l) => (JSON.parse(l) as Line).msg);
  }

  it('the flag wins over LOG_LEVEL, which wins over the config; a reload applies the config when neither is set', async () => {
    const configOnly = await run({ level: 'warn' }, undefined, undefined);
    expect(configOnly).not.toContain('config loaded'); // warn until the reload turned it to info
    expect(configOnly).toEqual(expect.arrayContaining(['config reloaded', 'request', 'stopped']));
    expect(await run({ level: 'warn' }, undefined, 'error')).toEqual([]);
    expect(await run({ level: 'warn' }, 'info', 'error')).toContain('config loaded');
  });
});
