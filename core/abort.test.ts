import { describe, expect, it, vi } from 'vitest';
import { HookedAbortController, onAbort, upstreamSignal } from './abort.ts';

describe('HookedAbortController', () => {
  it('is a real AbortController: event listeners, reason, throwIfAborted, AbortSignal.any', () => {
    const ac = new HookedAbortController();
    const listener = vi.fn();
    ac.signal.addEventListener('abort', listener);
    const any = AbortSignal.any([ac.signal]);
    ac.abort(new Error('gone'));
    expect(ac.signal).toBeInstanceOf(AbortSignal);
    expect(listener).toHaveBeenCalledOnce();
    expect(() => ac.signal.throwIfAborted()).toThrow('gone');
    expect(any.aborted).toBe(true);
  });

  it('runs hooks once, with the reason, after the event listeners; a removed hook does not run', () => {
    const ac = new HookedAbortController();
    const order: string[] = [];
    ac.signal.addEventListener('abort', () => order.push('listener'));
    const hook = vi.fn(() => order.push('hook'));
    const removed = vi.fn();
    onAbort(ac.signal, hook);
    onAbort(ac.signal, removed)();
    ac.abort('why');
    ac.abort('again');
    expect(hook).toHaveBeenCalledExactlyOnceWith('why');
    expect(removed).not.toHaveBeenCalled();
    expect(order).toEqual(['listener', 'hook']);
  });
});

describe('onAbort', () => {
  it('listens on any other signal as an ordinary abort listener, removable', () => {
    const ac = new AbortController();
    const fn = vi.fn();
    const gone = vi.fn();
    onAbort(ac.signal, fn);
    onAbort(ac.signal, gone)();
    ac.abort('r');
    expect(fn).toHaveBeenCalledExactlyOnceWith('r');
    expect(gone).not.toHaveBeenCalled();
  });
});

describe('upstreamSignal', () => {
  it.each([
    ['a hooked signal', () => new HookedAbortController()],
    ['a plain signal', () => new AbortController()],
  ])('carries the abort of %s to the one listener undici registers, with its reason', (_, make) => {
    const ac = make();
    const s = upstreamSignal(ac.signal);
    expect('aborted' in s).toBe(false); // undici then uses addEventListener, not Node's own helper
    const fn = vi.fn(() => expect(s.reason).toBe('client gone'));
    s.addEventListener('abort', fn);
    ac.abort('client gone');
    expect(fn).toHaveBeenCalledOnce();
  });

  it('forgets the listener undici removes once the call is over', () => {
    const ac = new HookedAbortController();
    const s = upstreamSignal(ac.signal);
    const fn = vi.fn();
    s.addEventListener('abort', fn);
    s.removeEventListener('abort', fn);
    ac.abort();
    expect(fn).not.toHaveBeenCalled();
  });
});
