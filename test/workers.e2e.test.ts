/**
 * `gateway --workers N` as an operator runs it: a real primary and real worker processes on
 * one port. Both workers serve; after `kill -9` of one the other keeps serving and the primary
 * starts a replacement; SIGTERM drains every worker (an open stream runs to its end) and exits 0. With the embedded store and
 * no `server.allowPerWorkerState`, it refuses to start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './fixtures/upstream.ts';
import { redisBinary, startRedis, type RedisServer } from './fixtures/redis.ts';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'gateway.js');
const dir = join(import.meta.dirname, '.tmp', `workers-${process.pid}`);
const redisConfig = `
import { defineConfig, mock, rateLimit } from 'switchyard';
export default defineConfig(({ env }) => ({
  providers: { echo: mock() },
  models: { demo: 'echo/echo' },
  store: { type: 'redis', url: env.REDIS_URL },
  pipeline: [rateLimit({ rules: [{ name: 'n', requests: 3, per: '30m', window: 'sliding' }] })],
}));
`;
const config = (allow: boolean) => `
import { defineConfig, mock } from 'switchyard';
export default defineConfig({
  server: { allowPerWorkerState: ${allow} },
  providers: { echo: mock(), slow: mock({ chunkDelayMs: 100 }) },
  models: { demo: 'echo/echo', slow: 'slow/echo' },
  store: { type: 'memory', path: false },
});
`;

interface Proc {
  child: ChildProcess;
  out: () => string;
  lines: () => Array<Record<string, unknown>>;
}

function start(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, LOG_LEVEL: 'info', ...env } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const lines = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { child, out: () => out, lines };
}

async function until<T>(what: string, check: () => T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** One chat request on a fresh connection (so the cluster may hand it to any worker). */
function chat(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/chat/completions`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }));
  });
}

/** A slow stream on a fresh connection: resolves with the first chunk and a promise of the whole body. */
function slowStream(url: string): Promise<{ first: string; rest: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/chat/completions`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      const rest = new Promise<string>((done, fail) => {
        res.on('end', () => done(body));
        res.on('error', fail);
      });
      res.once('data', (d) => resolve({ first: String(d), rest }));
      res.on('data', (d) => (body += d));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'w1 w2 w3 w4 w5 w6 w7 w8 w9 w10' }] }));
  });
}

/** GET on a fresh connection. */
function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(() => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'shared.config.ts'), config(true));
  writeFileSync(join(dir, 'memory.config.ts'), config(false));
  writeFileSync(join(dir, 'redis.config.ts'), redisConfig);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gateway --workers', () => {
  it('serves from 2 workers, survives kill -9 of one, and drains on SIGTERM', async () => {
    const p = start(['--config', join(dir, 'shared.config.ts'), '--port', '0', '--workers', '2']);
    const exited = new Promise<number | null>((r) => p.child.once('close', (code) => r(code)));
    try {
      const url = await until('the listening line', () => /^listening on (http:\/\/\S+)$/m.exec(p.out())?.[1]);
      const workerPids = () => p.lines().filter((l) => l.msg === 'worker listening').map((l) => l.worker as number);
      // The workers' log lines go through the logger's asynchronous writer, the listening line
      // straight to stdout: on a pipe the listening line can come first.
      const [first, second] = await until('both workers listening', () => (workerPids().length >= 2 ? workerPids() : undefined));
      expect(first && second && first !== second).toBe(true);
      // every worker is a full gateway on the same port
      const served = new Set<unknown>();
      let sent = 0;
      for (let i = 0; i < 40 && served.size < 2; i++, sent++) {
        expect(await chat(url)).toBe(200);
        served.clear();
        for (const l of p.lines()) if (l.msg === 'request' && l.path === '/v1/chat/completions') served.add(l.pid);
      }
      expect(served).toEqual(new Set([first, second]));
      // whichever worker takes the scrape, /metrics is the sum over both (asked of the primary)
      const total = `switchyard_requests_total{format="openai",model="demo",provider="echo",status_class="2xx"} ${sent}\n`;
      for (let hits = 0, end = Date.now() + 10_000; hits < 2 && Date.now() < end; ) if ((await get(`${url}/metrics`)).includes(total)) hits++;
      expect(await get(`${url}/metrics`)).toContain(total);

      process.kill(first!, 'SIGKILL');
      await until('the primary to notice', () => p.lines().some((l) => l.msg === 'worker died; starting a replacement' && l.worker === first));
      for (let i = 0; i < 6; i++) expect(await chat(url)).toBe(200); // the other worker keeps serving
      const third = await until('a replacement worker', () => workerPids().find((pid) => pid !== first && pid !== second));
      expect(alive(third)).toBe(true);
      for (let i = 0; i < 4; i++) expect(await chat(url)).toBe(200);

      // SIGTERM drains: a stream open on a worker still runs to its end
      const stream = await slowStream(url);
      p.child.kill('SIGTERM');
      const body = await stream.rest;
      expect(body).toContain('w10');
      expect(body).toContain('[DONE]');
      expect(await exited).toBe(0);
      // logs are flushed as workers exit: the stream's access line and each worker's last line
      expect(p.lines().filter((l) => l.msg === 'request' && l.model === 'slow')).toEqual([expect.objectContaining({ status: 200, stream: true, aborted: false })]);
      expect(p.lines().filter((l) => l.msg === 'stopped' && l.role === 'primary')).toHaveLength(1);
      expect(p.lines().filter((l) => l.msg === 'stopped' && l.pid !== undefined).map((l) => l.pid).sort()).toEqual([second, third].sort());
      await until('the workers to be gone', () => !alive(second!) && !alive(third));
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  }, 60_000);

  it('refuses to start workers over the embedded store unless the config allows it', async () => {
    const p = start(['--config', join(dir, 'memory.config.ts'), '--port', '0', '--workers', '2']);
    const code = await new Promise<number | null>((r) => p.child.once('close', (c) => r(c)));
    expect(code).toBe(1);
    expect(p.out()).toContain('server.allowPerWorkerState');
    expect(p.out()).not.toContain('listening on');
  });
});

const redisBin = redisBinary();

describe.runIf(redisBin)('gateway --workers over Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis(redisBin!);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('starts without the per-worker flag and enforces one limit across workers', async () => {
    const p = start(['--config', join(dir, 'redis.config.ts'), '--port', '0', '--workers', '2'], { REDIS_URL: redis.url });
    const exited = new Promise<number | null>((r) => p.child.once('close', (code) => r(code)));
    try {
      const url = await until('the listening line', () => /^listening on (http:\/\/\S+)$/m.exec(p.out())?.[1]);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push(await chat(url));
      expect(statuses.filter((s) => s === 200)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429)).toHaveLength(3);
      const pids = await until('access lines', () => {
        const lines = p.lines().filter((l) => l.msg === 'request' && l.path === '/v1/chat/completions');
        return lines.length === 6 && new Set(lines.map((l) => l.pid));
      });
      expect(pids.size).toBe(2); // both workers took requests, and still only 3 passed
      // the primary sums both workers' series
      const m = await get(`${url}/metrics`);
      expect(m).toMatch(/^switchyard_rate_limit_rejections_total\{rule="rate-limit\/n[^"]*"\} 3$/m);
      expect(m).toContain('switchyard_requests_total{format="openai",model="demo",provider="echo",status_class="2xx"} 3\n');
      p.child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  }, 60_000);
});
