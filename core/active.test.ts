import { describe, expect, it } from 'vitest';
import { ActiveRequests } from './active.ts';

describe('ActiveRequests', () => {
  it('adds, deletes and iterates like a set', () => {
    const a = new ActiveRequests<{ id: number }>();
    const items = Array.from({ length: 5 }, (_, id) => ({ id }));
    for (const it of items) a.add(it);
    a.add(items[2]!); // already there: no duplicate
    expect(a.size).toBe(5);
    expect(a.delete(items[1]!)).toBe(true);
    expect(a.delete(items[1]!)).toBe(false);
    expect(a.has(items[1]!)).toBe(false);
    expect(a.delete(items[4]!)).toBe(true); // the last slot
    expect([...a].map((x) => x.id).sort()).toEqual([0, 2, 3]);
    for (const it of items) expect(a.has(it)).toBe([0, 2, 3].includes(it.id));
  });

  it('keeps indexes right through many interleaved adds and deletes', () => {
    const a = new ActiveRequests<{ id: number }>();
    const live = new Set<{ id: number }>();
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pool = Array.from({ length: 50 }, (_, id) => ({ id }));
    for (let i = 0; i < 5000; i++) {
      const it = pool[Math.floor(rnd() * pool.length)]!;
      if (rnd() < 0.5) {
        a.add(it);
        live.add(it);
      } else {
        expect(a.delete(it)).toBe(live.delete(it));
      }
      expect(a.size).toBe(live.size);
    }
    expect(new Set(a)).toEqual(live);
  });

  it('does not mistake a member of another instance for its own', () => {
    const a = new ActiveRequests<object>();
    const b = new ActiveRequests<object>();
    const x = {};
    a.add(x);
    expect(b.has(x)).toBe(false);
    expect(b.delete(x)).toBe(false);
    expect(a.has(x)).toBe(true);
  });
});
