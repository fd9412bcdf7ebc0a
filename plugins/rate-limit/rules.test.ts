/**
 * Rule compilation, windows and estimates, without a gateway.
 */
import { describe, expect, it } from 'vitest';
import { createRequest } from '../../core/request.ts';
import { openaiCodec } from '../openai/index.ts';
import { costOf, estimateTokens, priceOf } from './estimate.ts';
import { compileQuota, compileRules, globs, parseDuration, windowAt } from './rules.ts';

describe('compileRules', () => {
  it('parses durations', () => {
    expect(parseDuration('30s', 'x')).toBe(30_000);
    expect(parseDuration('1.5h', 'x')).toBe(5_400_000);
    expect(parseDuration(250, 'x')).toBe(250);
    expect(() => parseDuration('soon', 'r[0]')).toThrow(/r\[0\]: "per" must be a duration/);
  });

  it('compiles one counter per unit, with scope, window, and durability', () => {
    const [req, tok] = compileRules([{ by: ['key', 'model'], requests: 5, tokens: 100, per: '1m', name: 'r' }], 'rules');
    expect(req).toMatchObject({ id: 'r:requests', unit: 'requests', limit: 5, by: ['key', 'model'], window: { kind: 'fixed', ms: 60_000 }, quota: false, durable: false });
    expect(tok).toMatchObject({ id: 'r:tokens', unit: 'tokens', limit: 100 });
    const [daily] = compileRules([{ by: 'global', tokens: 1e6, per: '1d', window: 'sliding' }], 'rules');
    expect(daily).toMatchObject({ by: [], window: { kind: 'sliding' }, durable: true, id: '0:tokens' });
    const [cron] = compileRules([{ by: 'target', requests: 1, reset: '0 0 * * *', timezone: 'UTC' }], 'rules');
    expect(cron).toMatchObject({ window: { kind: 'cron' }, durable: true, quota: false });
    const [budget] = compileRules([{ tokens: 10 }], 'rules');
    expect(budget).toMatchObject({ window: { kind: 'total' }, quota: true, durable: true });
    expect(compileRules([{ by: 'model', requests: 1, per: '1s' }], 'r', 'key:a:', 'key')[0]).toMatchObject({ by: ['key', 'model'], id: 'key:a:0:requests' });
  });

  it('names the rule and field on bad input', () => {
    expect(() => compileRules([{ per: '1m' }], 'rate-limit: rules')).toThrow('rate-limit: rules[0]: give "requests" and/or "tokens"');
    expect(() => compileRules([{ requests: -1, per: '1m' }], 'r')).toThrow(/"requests" must be a positive number/);
    expect(() => compileRules([{ requests: 1, per: '1m', reset: '* * * * *' }], 'r')).toThrow(/either "per" or "reset"/);
    expect(() => compileRules([{ requests: 1, window: 'sliding' }], 'r')).toThrow(/sliding window needs "per"/);
    expect(() => compileRules([{ requests: 1, reset: 'every day' }], 'r')).toThrow(/not a valid cron/);
    expect(() => compileRules([{ requests: 1, per: '1m', by: 'tenant' as 'key' }], 'r')).toThrow(/"by" must be/);
    expect(() => compileQuota({}, 'q', '')).toThrow(/"tokens" and\/or "costUsd"/);
  });

  it('globs', () => {
    const g = globs(['gpt-*', 'demo'], 'x')!;
    expect(['gpt-4o', 'demo'].every((s) => g.test(s))).toBe(true);
    expect(g.test('demo2')).toBe(false);
  });
});

describe('windowAt', () => {
  const now = Date.UTC(2026, 4, 17, 13, 45, 30, 500);
  it('fixed windows are epoch-aligned and named by their start', () => {
    expect(windowAt({ kind: 'fixed', ms: 60_000 }, now)).toEqual({ window: { type: 'fixed', resetAt: Date.UTC(2026, 4, 17, 13, 46) }, suffix: `:${Date.UTC(2026, 4, 17, 13, 45)}` });
  });
  it('cron windows run from the previous occurrence to the next', () => {
    const [c] = compileRules([{ requests: 1, reset: '0 0 * * *', timezone: 'UTC' }], 'r');
    expect(windowAt(c!.window, now)).toEqual({ window: { type: 'fixed', resetAt: Date.UTC(2026, 4, 18) }, suffix: `:${Date.UTC(2026, 4, 17)}` });
    const [monthly] = compileRules([{ tokens: 1, reset: '0 0 1 * *', timezone: 'UTC' }], 'r');
    expect(windowAt(monthly!.window, now).window).toEqual({ type: 'fixed', resetAt: Date.UTC(2026, 5, 1) });
  });
  it('sliding and total windows have no suffix', () => {
    expect(windowAt({ kind: 'sliding', ms: 1000 }, now)).toEqual({ window: { type: 'sliding', ms: 1000 }, suffix: '' });
    expect(windowAt({ kind: 'total' }, now)).toEqual({ window: { type: 'total' }, suffix: '' });
  });
});

describe('estimates', () => {
  const req = (body: Record<string, unknown>) =>
    createRequest({ format: 'openai', operation: 'chat', model: 'm', stream: false, body, headers: {}, query: {} }, openaiCodec);

  it('prompt at ~4 chars per token plus max tokens (default when absent)', () => {
    const text = 'x'.repeat(400);
    expect(estimateTokens(req({ model: 'm', messages: [{ role: 'user', content: text }], max_tokens: 50 }), 1024)).toEqual({ input: 101, output: 50 });
    expect(estimateTokens(req({ model: 'm', messages: [{ role: 'user', content: text }] }), 1024).output).toBe(1024);
  });

  it('prices by target, then target model, then asked model; cached tokens at their price', () => {
    const prices = { 'oa/gpt': { input: 1, output: 2 }, claude: { input: 3, output: 15, cachedInput: 0.3 }, fast: { input: 9, output: 9 } };
    expect(priceOf(prices, { provider: 'oa', model: 'gpt' }, 'fast')).toEqual({ input: 1, output: 2 });
    expect(priceOf(prices, { provider: 'an', model: 'claude' }, 'fast')?.input).toBe(3);
    expect(priceOf(prices, { provider: 'x', model: 'y' }, 'fast')?.input).toBe(9);
    expect(costOf({ inputTokens: 1_000_000, outputTokens: 0, cachedTokens: 500_000 }, prices.claude)).toBeCloseTo(1.65);
  });
});
