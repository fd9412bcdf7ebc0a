/**
 * Log level precedence end to end: `--log-level` (the `log.level` option) > `LOG_LEVEL` > the
 * config's `log.level`, and a reload applies a changed config level when nothing fixed it — to
 * the gateway's own lines and to the new version's plugin loggers. Reloads are logged as events.
 */
import { describe, expect, it } from 'vitest';
import { definePlugin, mock, startGateway, type UserConfig } from 'switchyard';

type Line = { msg?: string };
describe('log level', () => {
  /** Starts a gateway whose config says `level`, with `flag` as --log-level and `env` as LOG_LEVEL. */
  async function run(level: UserConfig['log'], flag: string | undefined, env: string | undefined) {
    const out: string[] = [];
    const saved = process.env.LOG_LEVEL;
    if (env === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = env;
    // logs through its runtime logger (a child made when its version is built) at each setup
    const talker = () => definePlugin({ name: 'talker', setup: (r) => r.logger.info('talker ready') });
    let config: UserConfig = { providers: { echo: mock() }, log: level, pipeline: [talker()] };
    try {
      const g = await startGateway({
        config: () => config,
        host: '127.0.0.1',
        port: 0,
        log: { level: flag, format: 'json', destination: { write: (l: string) => void out.push(l) } },
      });
      config = { ...config, log: { level: 'info' }, pipeline: [talker()] };
      await g.reload('level test');
      await fetch(`${g.url}/v1/models`); // not a probe: its access line is at info
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
    expect(configOnly.filter((m) => m === 'talker ready')).toHaveLength(1); // the reloaded version's, at info
    expect(await run({ level: 'warn' }, undefined, 'error')).toEqual([]);
    expect(await run({ level: 'warn' }, 'info', 'error')).toContain('config loaded');
  });

  it('a reload is an event with its reason; a failed one also says why and keeps the running version', async () => {
    const out: string[] = [];
    let broken = false;
    const g = await startGateway({
      config: () => {
        if (broken) throw new Error('models.fast: unknown provider "nope"');
        return { providers: { echo: mock() } };
      },
      host: '127.0.0.1',
      port: 0,
      log: { level: 'info', format: 'json', destination: { write: (l: string) => void out.push(l) } },
    });
    try {
      expect((await g.reload('file changed')).ok).toBe(true);
      broken = true;
      expect(await g.reload('POST /admin/reload')).toMatchObject({ ok: false, version: 2 });
    } finally {
      await g.close();
    }
    const lines = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === 'config reloaded')).toMatchObject({ level: 30, version: 2, reason: 'file changed' });
    expect(lines.find((l) => l.msg === 'config reload failed; keeping previous config')).toMatchObject({
      level: 50,
      reason: 'POST /admin/reload',
      error: 'models.fast: unknown provider "nope"',
    });
  });
});
