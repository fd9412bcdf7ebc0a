/**
 * The logger's two redaction layers: field paths (pino `redact`) and secret values in the
 * serialized line (declared secrets, `?key=` queries, key-shaped strings).
 */
import { describe, expect, it } from 'vitest';
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
