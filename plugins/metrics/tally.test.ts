import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { flushTally, tallyOf } from './tally.ts';

function counter(registry = new Registry()) {
  return new Counter({
    name: 't_total',
    help: 'T.',
    labelNames: ['model', 'type'] as const,
    registers: [registry],
    collect() {
      flushTally(this);
    },
  });
}

const values = async (c: Counter<string>) => (await c.get()).values.map((v) => ({ labels: v.labels, value: v.value }));

describe('tally', () => {
  it('adds every pending increment at the next read, one series per label set', async () => {
    const c = counter();
    const t = tallyOf(c);
    t.inc('a\0in', { model: 'a', type: 'in' });
    t.inc('a\0in', { model: 'a', type: 'in' }, 4);
    t.inc('b\0in', { model: 'b', type: 'in' }, 2);
    expect(await values(c)).toEqual([
      { labels: { model: 'a', type: 'in' }, value: 5 },
      { labels: { model: 'b', type: 'in' }, value: 2 },
    ]);
    t.inc('a\0in', { model: 'a', type: 'in' }, 3);
    expect(await values(c)).toEqual([
      { labels: { model: 'a', type: 'in' }, value: 8 },
      { labels: { model: 'b', type: 'in' }, value: 2 },
    ]);
    expect(await values(c)).toEqual([
      { labels: { model: 'a', type: 'in' }, value: 8 },
      { labels: { model: 'b', type: 'in' }, value: 2 },
    ]);
  });

  it('creates a series incremented by 0, as inc(labels, 0) does', async () => {
    const c = counter();
    tallyOf(c).inc('a\0out', { model: 'a', type: 'out' }, 0);
    expect(await values(c)).toEqual([{ labels: { model: 'a', type: 'out' }, value: 0 }]);
  });

  it('is shared by everyone recording into the same counter, and scrapes see it', async () => {
    const registry = new Registry();
    const c = counter(registry);
    tallyOf(c).inc('a\0in', { model: 'a', type: 'in' });
    tallyOf(c).inc('a\0in', { model: 'a', type: 'in' });
    expect(tallyOf(c)).toBe(tallyOf(c));
    expect(await registry.metrics()).toContain('t_total{model="a",type="in"} 2');
  });

  it('rejects a negative, infinite or NaN increment when it is recorded, and scrapes go on', async () => {
    const c = counter();
    const t = tallyOf(c);
    t.inc('a\0in', { model: 'a', type: 'in' }, 2);
    for (const bad of [-1, Infinity, Number.NaN, '5' as unknown as number]) expect(() => t.inc('a\0in', { model: 'a', type: 'in' }, bad)).toThrow(TypeError);
    expect(await values(c)).toEqual([{ labels: { model: 'a', type: 'in' }, value: 2 }]);
  });

  it('rejects a label the counter does not have when it is recorded, as inc() does', async () => {
    const c = counter();
    expect(() => tallyOf(c).inc('x', { model: 'a', nope: 'x' } as never)).toThrow(/nope/);
    tallyOf(c).inc('a\0in', { model: 'a', type: 'in' });
    expect(await values(c)).toEqual([{ labels: { model: 'a', type: 'in' }, value: 1 }]);
  });
});
