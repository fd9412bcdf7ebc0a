/**
 * The logger's two redaction layers: field paths (pino `redact`) and secret values in the
 * serialized line (declared secrets, `?key=` queries, key-shaped strings); and its stdout:
 * whole-line writes of at most PIPE_BUF, synchronous to a file, asynchronous with a bounded
 * backlog to a pipe.
 */
import fs from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { flatFields, laterWriter, withLineWriter } from './log-line.ts';
import { createLogger, isLogLevel, redactLine, resolveLogConfig } from './logging.ts';

function capture(secrets = new Set<string>()) {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) }, secrets });
  return { logger, lines, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('censors credential headers and apiKey fields at any usual depth', () => {
    const { logger, json } = capture();
    logger.info(
      {
        authorization: 'Bearer a1',
        headers: { authorization: 'Bearer b2', 'x-api-key': 'c3', 'x-goog-api-key': 'd4', accept: 'json' },
        req: { headers: { authorization: 'Bearer e5' } },
        provider: { apiKey: 'f6', baseURL: 'http://x' },
        config: { providers: { oa: { apiKey: 'g7' } } },
      },
      'hello',
    );
    const [line] = json();
    const text = JSON.stringify(line);
    for (const s of ['a1', 'b2', 'c3', 'd4', 'e5', 'f6', 'g7']) expect(text).not.toContain(s);
    expect(line).toMatchObject({ headers: { accept: 'json' }, provider: { baseURL: 'http://x' }, msg: 'hello' });
  });

  it('censors declared secrets anywhere in a line, also added after creation', () => {
    const secrets = new Set<string>();
    const { logger, lines } = capture(secrets);
    secrets.add('my-upstream-secret-1');
    logger.error({ err: new Error('call failed with my-upstream-secret-1') }, 'boom my-upstream-secret-1');
    expect(lines.join('')).not.toContain('my-upstream-secret-1');
    expect(lines.join('')).toContain('[Redacted]');
  });

  it('follows level changes', () => {
    const { logger, lines } = capture();
    logger.level = 'warn';
    logger.info('quiet');
    logger.warn('loud');
    expect(lines).toHaveLength(1);
  });
});

/** Makes the logger see fd 1 as a pipe (`file: false`) or a regular file. */
function stdoutKind(file: boolean) {
  const real = fs.fstatSync;
  return vi.spyOn(fs, 'fstatSync').mockImplementation(((fd: number, ...rest: unknown[]) =>
    fd === 1 ? ({ isFile: () => file } as fs.Stats) : (real as (...a: unknown[]) => fs.Stats)(fd, ...rest)) as never);
}

describe('stdout', () => {
  it('a regular file is written synchronously: whole lines, at most 64 KiB per write, by the end of the loop turn', async () => {
    const writes: string[] = [];
    const kind = stdoutKind(true);
    const spy = vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, data: unknown) => {
      if (fd !== 1) throw new Error(`unexpected fd ${fd}`);
      writes.push(String(data));
      return Buffer.byteLength(String(data));
    }) as never);
    try {
      const logger = createLogger({ format: 'json', secrets: new Set(['stdout-secret-2']) });
      const later = laterWriter(logger)!;
      for (let i = 0; i < 400; i++) later('info', { i, pad: 'x'.repeat(300) }, 'line stdout-secret-2');
      await new Promise((r) => setImmediate(r)); // the turn's lines are flushed in its check phase
    } finally {
      spy.mockRestore();
      kind.mockRestore();
    }
    const lines = writes.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(400); // all written, no write left in flight
    expect(lines.every((l) => (JSON.parse(l) as { msg: string }).msg === 'line [Redacted]')).toBe(true);
    expect(writes.filter((w) => Buffer.byteLength(w) > 64 * 1024 || !w.endsWith('\n'))).toEqual([]);
    expect(writes.length).toBeGreaterThan(1); // ~140 KB of lines: more than one write
    expect(writes.length).toBeLessThan(5);
  });

  it('batches lines, but never more than 4 KiB per write and always whole lines (atomic on a pipe --workers share)', async () => {
    const writes: string[] = [];
    const kind = stdoutKind(false);
    // pino's stdout destination writes with fs.write on fd 1: record the writes instead
    const spy = vi.spyOn(fs, 'write').mockImplementation(((fd: number, data: unknown, ...rest: unknown[]) => {
      const done = rest.at(-1) as (err: Error | null, n: number) => void;
      if (fd !== 1) return done(new Error(`unexpected fd ${fd}`), 0);
      writes.push(String(data));
      setImmediate(() => done(null, Buffer.byteLength(String(data))));
    }) as never);
    try {
      const logger = createLogger({ format: 'json', secrets: new Set(['stdout-secret-1']) });
      for (let i = 0; i < 300; i++) logger.info({ i, pad: 'x'.repeat(300) }, 'line stdout-secret-1');
      for (let t = 0; t < 200 && writes.join('').split('\n').length <= 300; t++) await new Promise((r) => setTimeout(r, 5));
    } finally {
      spy.mockRestore();
      kind.mockRestore();
    }
    const lines = writes.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(300);
    expect(lines.every((l) => (JSON.parse(l) as { msg: string }).msg === 'line [Redacted]')).toBe(true);
    expect(writes.filter((w) => Buffer.byteLength(w) > 4096 || !w.endsWith('\n'))).toEqual([]);
    expect(writes.length).toBeLessThan(300); // several lines per write
  });

  it('keeps at most 16 MiB while a piped stdout is stalled, then says how many lines it dropped', async () => {
    const held: Array<() => void> = [];
    const kind = stdoutKind(false);
    let stalled = true;
    const written: string[] = [];
    const spy = vi.spyOn(fs, 'write').mockImplementation(((fd: number, data: unknown, ...rest: unknown[]) => {
      const done = rest.at(-1) as (err: Error | null, n: number) => void;
      const finish = () => (written.push(String(data)), done(null, Buffer.byteLength(String(data))));
      if (stalled) held.push(finish);
      else setImmediate(finish);
    }) as never);
    try {
      const logger = createLogger({ format: 'json' });
      const pad = 'x'.repeat(1000);
      for (let i = 0; i < 20_000; i++) logger.info({ i, pad }, 'line'); // ~20 MB while nothing is written
      expect(held).toHaveLength(1); // the first write, still in flight
      stalled = false;
      held[0]!();
      for (let t = 0; t < 400 && !written.join('').includes('lines dropped'); t++) await new Promise((r) => setTimeout(r, 5));
    } finally {
      spy.mockRestore();
      kind.mockRestore();
    }
    const lines = written.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; dropped?: number });
    const warn = lines.find((l) => l.msg === 'log output fell behind; lines dropped');
    const kept = lines.filter((l) => l.msg === 'line').length;
    expect(warn?.dropped).toBeGreaterThan(0);
    expect(kept + warn!.dropped!).toBe(20_000);
    expect(kept * 1050).toBeLessThan(17 * 1024 * 1024);
  });
});

describe('redactLine', () => {
  it('censors ?key= query values and key-shaped strings', () => {
    const out = redactLine('{"url":"/v1beta/models/x:generateContent?key=abc123&alt=sse","m":"used sk-proj-abcdef123 and AIzaSyA1234567890"}');
    expect(out).toBe('{"url":"/v1beta/models/x:generateContent?key=[Redacted]&alt=sse","m":"used [Redacted] and [Redacted]"}');
  });

  it('censors the JSON-escaped form of a secret', () => {
    expect(redactLine(JSON.stringify({ m: 'a"quoted\\secret' }), new Set(['a"quoted\\secret']))).toBe('{"m":"[Redacted]"}');
  });

  it('leaves ordinary words alone', () => {
    const line = '{"msg":"risk-assessment task-queue keyName=team-a"}';
    expect(redactLine(line)).toBe(line);
  });
});

const turn = () => new Promise((r) => setImmediate(r));

describe('laterWriter framing', () => {
  const fields = { requestId: 'r-1', path: '/v1/chat/completions', quote: 'say "hi"\n', status: 200, gone: undefined, nan: Number.NaN, stream: false };

  it('frames flat fields exactly as pino frames the same object', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) }, bindings: { worker: 2 } });
    logger.info(fields, 'request');
    laterWriter(logger)!('info', fields, 'request');
    await turn();
    const [viaPino, viaWriter] = lines.map((l) => l.replace(/"time":\d+/, '"time":0'));
    expect(viaWriter).toBe(viaPino);
    expect(JSON.parse(viaWriter!)).toEqual({ level: 30, time: 0, worker: 2, requestId: 'r-1', path: '/v1/chat/completions', quote: 'say "hi"\n', status: 200, nan: null, stream: false, msg: 'request' });
  });

  it('serializes strings as JSON.stringify does: escapes, control characters, lone surrogates, long values', () => {
    const strings = ['plain', 'a"b', 'back\\slash', 'tab\there', '\u0001', 'emoji 😀', 'lone \ud800', 'x'.repeat(65) + '"', 'é'];
    for (const v of strings) expect(flatFields({ v })).toBe(`,"v":${JSON.stringify(v)}`);
    expect(flatFields({ gone: undefined })).toBe('');
    expect(flatFields({ a: Infinity, b: -0, c: true })).toBe(',"a":null,"b":0,"c":true');
  });

  it('censors declared secrets and key shapes like every other line', async () => {
    const { logger, json } = capture(new Set(['team-secret-123']));
    laterWriter(logger)!('info', { model: 'team-secret-123', path: '/x sk-abcdefgh12345' }, 'request');
    await turn();
    expect(json()[0]).toMatchObject({ model: '[Redacted]', path: '/x [Redacted]' });
  });

  it('belongs to the logger createLogger made, not to its children or to other pino loggers', () => {
    const { logger } = capture();
    expect(laterWriter(logger)).toBeTypeOf('function');
    expect(laterWriter(logger.child({ plugin: 'x' }))).toBeUndefined();
  });
});

describe('laterWriter', () => {
  it('writes queued lines in the check phase, in order, one write per line, timestamped when queued, framed as pino frames them', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: 1_000 });
    try {
      const { logger, lines } = capture();
      const later = laterWriter(logger)!;
      later('info', { requestId: 'a', status: 200 }, 'request');
      vi.setSystemTime(2_000);
      later('warn', { requestId: 'b', gone: undefined }, 'request');
      expect(lines).toEqual([]); // nothing yet: queued
      vi.setSystemTime(3_000);
      logger.info({ requestId: 'a', status: 200 }, 'request');
      const viaPino = lines.pop()!;
      await turn();
      expect(lines).toHaveLength(2);
      expect(lines[0]).toBe(viaPino.replace('"time":3000', '"time":1000'));
      expect(JSON.parse(lines[1]!)).toEqual({ level: 40, time: 2000, requestId: 'b', msg: 'request' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('with chunkBytes, censors each write once, and every line in it', async () => {
    const writes: string[] = [];
    let calls = 0;
    const censor = (l: string) => (calls++, redactLine(l, new Set(['team-secret-123'])));
    const logger = withLineWriter(pino({ base: undefined }, { write: (s: string) => void writes.push(s) }), censor, { chunkBytes: 4096 });
    const later = laterWriter(logger)!;
    for (let i = 0; i < 10; i++) later('info', { i, model: 'team-secret-123', path: `/x?key=AIzaSyA-abcdefghijk${i}` }, 'request');
    await new Promise((r) => setImmediate(r));
    const lines = writes.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(10);
    expect(lines.every((l) => l.model === '[Redacted]' && l.path === '/x?key=[Redacted]')).toBe(true);
    expect(calls).toBe(writes.length);
    expect(writes.length).toBe(1);
  });

  it('with chunkBytes, joins whole lines into writes of at most that many bytes; a longer line goes alone', async () => {
    const writes: string[] = [];
    const logger = withLineWriter(pino({ base: undefined }, { write: (s: string) => void writes.push(s) }), (l) => l.replace('sk-abcdefgh12345', '[Redacted]'), { chunkBytes: 300 });
    const later = laterWriter(logger)!;
    const sent = ['a', 'b', 'c', 'é'.repeat(40), 'x'.repeat(400), 'd', 'sk-abcdefgh12345'];
    for (const model of sent) later('info', { model }, 'request');
    await new Promise((r) => setImmediate(r));
    expect(writes.length).toBeGreaterThan(2);
    expect(writes.length).toBeLessThan(sent.length); // short lines went together
    for (const w of writes) {
      expect(w.endsWith('\n')).toBe(true);
      if (!w.includes('x'.repeat(400))) expect(Buffer.byteLength(w)).toBeLessThanOrEqual(300);
    }
    expect(writes.find((w) => w.includes('x'.repeat(400)))!.split('\n')).toHaveLength(2); // alone
    const lines = writes.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { model: string });
    expect(lines.map((l) => l.model)).toEqual([...sent.slice(0, -1), '[Redacted]']);
  });

  it('censors declared secrets and key shapes, and a later turn starts a new batch', async () => {
    const { logger, json } = capture(new Set(['team-secret-123']));
    const later = laterWriter(logger)!;
    later('info', { model: 'team-secret-123' }, 'request');
    await new Promise((r) => setImmediate(r));
    later('info', { path: '/x sk-abcdefgh12345' }, 'request');
    await new Promise((r) => setImmediate(r));
    expect(json()).toMatchObject([{ model: '[Redacted]' }, { path: '/x [Redacted]' }]);
  });
});

describe('isLogLevel', () => {
  it('accepts pino levels only', () => {
    expect(isLogLevel('debug')).toBe(true);
    expect(isLogLevel('verbose')).toBe(false);
  });
});

describe('resolveLogConfig', () => {
  it('fills defaults, drops unset secrets and names the bad field', () => {
    expect(resolveLogConfig(undefined, 'c.ts')).toEqual({ level: 'info', redact: [], secrets: [] });
    expect(resolveLogConfig({ level: 'debug', secrets: [undefined, 'k-123456'] }, 'c.ts')).toEqual({ level: 'debug', redact: [], secrets: ['k-123456'] });
    expect(() => resolveLogConfig({ level: 'loud' as never }, 'c.ts')).toThrow(/c\.ts: log\.level: must be one of/);
    expect(() => resolveLogConfig({ redact: 'x' as never }, 'c.ts')).toThrow(/log\.redact: must be an array of strings/);
  });
});
