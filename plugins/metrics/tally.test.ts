import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { flushPending, samplesOf, tallyOf } from './tally.ts';

function counter(registry = new Registry()) {
  return new Counter({
    name: 't_total',
    help: 'T.',
    labelNames: ['model', 'type'] as const,
    registers: [registry],
    collect() {
      flushPending(this);
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

function histogram(registry = new Registry()) {
  return new Histogram({
    name: 't_seconds',
    help: 'T.',
    labelNames: ['model'] as const,
    buckets: [0.1, 1],
    registers: [registry],
    collect() {
      flushPending(this);
    },
  });
}

/** What prom-client reports for the same observations made directly. */
async function direct(observations: Array<[string, number]>) {
  const h = new Histogram({ name: 'd_seconds', help: 'D.', labelNames: ['model'] as const, buckets: [0.1, 1], registers: [] });
  for (const [model, v] of observations) h.observe({ model }, v);
  return (await h.get()).values.map((v) => ({ ...v, metricName: v.metricName?.replace('d_', 't_') }));
}

describe('samples', () => {
  it('hands every observation to the histogram by the next read: buckets, sum and count as observe() makes them', async () => {
    const h = histogram();
    const seen: Array<[string, number]> = [
      ['a', 0.05],
      ['a', 0.5],
      ['b', 3],
      ['a', 0.1],
    ];
    for (const [model, v] of seen) samplesOf(h).observe(model, { model }, v);
    expect((await h.get()).values).toEqual(await direct(seen));
    samplesOf(h).observe('b', { model: 'b' }, 0.2);
    expect((await h.get()).values).toEqual(await direct([...seen, ['b', 0.2]]));
  });

  it('observes the first value of a label set at once, and scrapes see the rest', async () => {
    const registry = new Registry();
    const h = histogram(registry);
    samplesOf(h).observe('a', { model: 'a' }, 0.5);
    expect(samplesOf(h)).toBe(samplesOf(h));
    expect(await registry.metrics()).toContain('t_seconds_count{model="a"} 1');
  });

  it('hands a full batch over at once, without waiting for a read', async () => {
    const h = histogram();
    const observe = vi.spyOn(h, 'observe');
    samplesOf(h).observe('a', { model: 'a' }, 0.5); // the first: observed at once
    expect(observe).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 511; i++) samplesOf(h).observe('a', { model: 'a' }, 0.5);
    expect(observe).toHaveBeenCalledTimes(1);
    samplesOf(h).observe('a', { model: 'a' }, 0.5);
    expect(observe).toHaveBeenCalledTimes(513);
    expect((await h.get()).values.find((v) => v.metricName === 't_seconds_count')?.value).toBe(513);
  });

  it('rejects a non-finite value or an unknown label when it is recorded, and reads go on', async () => {
    const h = histogram();
    samplesOf(h).observe('a', { model: 'a' }, 0.5);
    for (const bad of [Infinity, Number.NaN, '5' as unknown as number]) expect(() => samplesOf(h).observe('a', { model: 'a' }, bad)).toThrow(TypeError);
    expect(() => samplesOf(h).observe('x', { model: 'a', nope: 'x' } as never, 0.5)).toThrow(/nope/);
    expect((await h.get()).values.find((v) => v.metricName === 't_seconds_count')?.value).toBe(1);
  });
});
