import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineReached, Deadlines } from './deadlines.ts';

describe('Deadlines', () => {
  beforeEach(() => void vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => void vi.useRealTimers());

  it.each([
    ['near (own timer at once)', 800],
    ['far (the coarse sweep hands it a timer when near)', 300_000],
    ['far, not on a second', 7_345],
  ])('fires exactly at the deadline, never early: %s', (_name, ms) => {
    const d = new Deadlines();
    const fire = vi.fn();
    d.arm(Date.now() + ms, { abort: fire });
    vi.advanceTimersByTime(ms - 1);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fire).toHaveBeenCalledTimes(1);
    expect(fire.mock.calls[0]![0]).toBeInstanceOf(DeadlineReached);
    vi.advanceTimersByTime(60_000);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['near', 800, 400],
    ['far, still in the set', 300_000, 1_000],
    ['far, already handed its own timer', 300_000, 296_000],
  ])('never fires once cleared: %s', (_name, ms, clearAfter) => {
    const d = new Deadlines();
    const fire = vi.fn();
    const armed = d.arm(Date.now() + ms, { abort: fire });
    vi.advanceTimersByTime(clearAfter);
    d.clear(armed);
    vi.advanceTimersByTime(ms * 2);
    expect(fire).not.toHaveBeenCalled();
  });

  it('a deadline already past fires on the next turn', () => {
    const d = new Deadlines();
    const fire = vi.fn();
    d.arm(Date.now() - 5, { abort: fire });
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(0);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('keeps no timer once no far deadline is left (nothing to close)', () => {
    const d = new Deadlines();
    const armed = [1, 2, 3].map((i) => d.arm(Date.now() + 60_000 * i, { abort: () => {} }));
    expect(vi.getTimerCount()).toBe(1); // one coarse sweep for all three
    for (const a of armed) d.clear(a);
    vi.advanceTimersByTime(1_000);
    expect(vi.getTimerCount()).toBe(0);
  });
});
