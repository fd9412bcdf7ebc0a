import { describe, expect, it, vi } from 'vitest';
import { Abort, follow, onAbort, signalOf, upstreamSignal } from './abort.ts';
import { abortOf, RequestState, useAbort } from './request-state.ts';
import pino from 'pino';

describe('Abort', () => {
  it('aborts once, with its reason or an AbortError, through hooks alone (no signal read)', () => {
    const ac = new Abort();
    const hook = vi.fn();
    onAbort(ac, hook);
    expect(ac.aborted).toBe(false);
    ac.abort('why');
    ac.abort('again');
    expect(ac.aborted).toBe(true);
    expect(ac.reason).toBe('why');
    expect(hook).toHaveBeenCalledExactlyOnceWith('why');
    const plain = new Abort();
    plain.abort();
    expect(plain.reason).toBeInstanceOf(DOMException);
    expect((plain.reason as DOMException).name).toBe('AbortError');
  });

  it('makes its signal on first read, the same one after, already aborted when read late', () => {
    const late = new Abort();
    late.abort(new Error('gone'));
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe(late.reason);
    expect(late.signal).toBe(late.signal);
    expect(signalOf(late)).toBe(late.signal);
    const other = new AbortController().signal;
    expect(signalOf(other)).toBe(other);
  });

  it('hooks added through a signal read from it are its hooks', () => {
    const ac = new Abort();
    const hook = vi.fn();
    const off = onAbort(ac.signal, hook);
    off();
    onAbort(ac.signal, hook);
    ac.abort('r');
    expect(hook).toHaveBeenCalledExactlyOnceWith('r');
  });

  it('is a real AbortController: event listeners, reason, throwIfAborted, AbortSignal.any', () => {
    const ac = new Abort();
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
    const ac = new Abort();
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
    ['a hooked signal', () => new Abort()],
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
    const ac = new Abort();
    const s = upstreamSignal(ac.signal);
    const fn = vi.fn();
    s.addEventListener('abort', fn);
    s.removeEventListener('abort', fn);
    ac.abort();
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('abortOf / useAbort', () => {
  it('swap the request\'s source; ctx.state.signal reads the current one', () => {
    const client = new Abort();
    const state = new RequestState('r', pino({ level: 'silent' }), client, new Map());
    expect(abortOf(state)).toBe(client);
    const attempt = new Abort();
    useAbort(state, attempt);
    expect(state.signal).toBe(attempt.signal);
    useAbort(state, client);
    client.abort('gone');
    expect(state.signal.aborted).toBe(true);
    const own = new AbortController().signal;
    state.signal = own; // a plugin's own signal
    expect(abortOf(state)).toBe(own);
  });

  it('work on a state that is not the core\'s', () => {
    const attempt = new Abort();
    const state = { signal: new AbortController().signal } as unknown as Parameters<typeof abortOf>[0];
    useAbort(state, attempt);
    expect(state.signal).toBe(attempt.signal);
    expect(abortOf(state)).toBe(attempt.signal);
  });
});

describe('follow', () => {
  it.each([
    ['an Abort', () => { const a = new Abort(); return { parent: a as Abort | AbortSignal, abort: (r: unknown) => a.abort(r) }; }],
    ['a signal read from an Abort', () => { const a = new Abort(); return { parent: a.signal, abort: (r: unknown) => a.abort(r) }; }],
    ['any AbortSignal', () => { const c = new AbortController(); return { parent: c.signal, abort: (r: unknown) => c.abort(r) }; }],
  ])('aborts the child with the parent\'s reason: %s; not once unfollowed', (_, make) => {
    const followed = make();
    const child = new Abort();
    follow(child, followed.parent);
    const gone = make();
    const other = new Abort();
    follow(other, gone.parent)();
    followed.abort('parent gone');
    gone.abort('x');
    expect(child.aborted).toBe(true);
    expect(child.reason).toBe('parent gone');
    expect(other.aborted).toBe(false);
  });
});
