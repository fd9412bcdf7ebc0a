/**
 * Token reservations on every way a request can end, over real HTTP with the official SDKs: each
 * request reserves its estimate (prompt + max tokens) on a sliding token limit and on a per-key
 * budget (quota), and both are settled — to the real usage when a usage report arrived, to 0 when
 * nothing was generated, to the estimate when a stream was cut before its usage report.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestGateway, openai, rateLimit, type TestGateway } from 'switchyard';
import { openaiUpstream, type MockUpstream } from '../../test/fixtures/upstream.ts';

const NAMES = ['ok', 'nousage', 'cut', 'cutconv', 'abort', 'early', 'broken'] as const;
const keyOf = (n: string) => `sk-settle-${n}-0123456789`;
/** 'hi' is 6 prompt characters with the per-message overhead: 2 tokens; plus max_tokens. */
const ESTIMATE = 2 + 50;

let gw: TestGateway;
let up: MockUpstream;
beforeAll(async () => {
  up = await openaiUpstream();
  gw = await createTestGateway({
    config: {
      providers: { oa: openai({ baseURL: `${up.url}/v1`, apiKey: 'sk-up' }) },
      models: { ok: 'oa/up-chat', cut: 'oa/reset-mid-stream', gated: 'oa/gated', hang: 'oa/hang', broken: 'oa/fail-500' },
      pipeline: [
        auth({ keys: NAMES.map((name) => ({ name, key: keyOf(name), quota: { tokens: 100_000 } })) }),
        rateLimit({ rules: [{ name: 'tpm', tokens: 100_000, per: '30m', window: 'sliding' }] }),
      ],
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
});

/** What key `name` holds on the sliding limit and on its budget. */
async function held(name: string): Promise<[number, number]> {
  const store = gw.gateway.store.namespace('rate-limit');
  const sliding = (await store.get<{ t: number }>(`tpm:tokens:${name}`))?.t ?? -1;
  const quota = (await store.durable().get<number>(`key:${name}:quota:tokens:${name}`)) ?? -1;
  return [sliding, quota];
}
async function settlesTo(name: string, want: number): Promise<[number, number]> {
  const end = Date.now() + 4000;
  for (;;) {
    const h = await held(name);
    if ((h[0] === want && h[1] === want) || Date.now() > end) return h;
    await new Promise((r) => setTimeout(r, 25));
  }
}
/** Waits until no request is in flight, then a little longer for their onDone settlements. */
async function quiet(): Promise<void> {
  const end = Date.now() + 4000;
  while (gw.gateway.status().inflight > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  await new Promise((r) => setTimeout(r, 100));
}
const oa = (name: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: keyOf(name), maxRetries: 0 });
const post = (name: string, model: string, signal?: AbortSignal) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${keyOf(name)}` },
    body: JSON.stringify({ model, stream: true, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }),
    signal,
  });

describe('reservations are settled however a request ends (sliding limit and budget alike)', () => {
  it('a stream that completes: the real usage', async () => {
    const s = await oa('ok').chat.completions.create({ model: 'ok', stream: true, max_tokens: 50, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    let total = 0;
    for await (const c of s) if (c.usage) total = c.usage.prompt_tokens + c.usage.completion_tokens;
    expect(total).toBeGreaterThan(0);
    expect(total).not.toBe(ESTIMATE);
    expect(await settlesTo('ok', total)).toEqual([total, total]);
  });

  it('an OpenAI stream whose client did not ask for usage: the gateway asks upstream, settles with it, and does not relay it', async () => {
    const s = await oa('nousage').chat.completions.create({ model: 'ok', stream: true, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    const chunks = [];
    for await (const c of s) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((c) => c.choices.length === 1 && !c.usage)).toBe(true); // exactly what the client asked for
    expect(up.received.at(-1)!.body.stream_options).toEqual({ include_usage: true });
    const total = 10 + 5; // what the upstream reports
    expect(await settlesTo('nousage', total)).toEqual([total, total]);
  });

  it('an upstream stream cut mid-way (passthrough and converted): the estimate stays charged', async () => {
    const s = await oa('cut').chat.completions.create({ model: 'cut', stream: true, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    const err = await (async () => {
      for await (const _ of s) void _;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError); // the in-stream error event, not a silent end
    const an = new Anthropic({ baseURL: gw.url, apiKey: keyOf('cutconv'), maxRetries: 0 });
    const e2 = await an.messages.stream({ model: 'cut', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }).finalMessage().catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(Error);
    // Nothing says how much was generated: never refunded to 0, never left open above the estimate.
    await quiet();
    expect(await held('cut')).toEqual([ESTIMATE, ESTIMATE]);
    expect(await held('cutconv')).toEqual([ESTIMATE, ESTIMATE]);
  });

  it('a client that aborts mid-stream: the estimate stays charged; the upstream call is aborted', async () => {
    const ac = new AbortController();
    const before = up.aborted.length;
    const res = await post('abort', 'gated', ac.signal);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('data:');
    ac.abort();
    const end = Date.now() + 4000;
    while (up.aborted.length === before && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    expect(up.aborted.slice(before)).toEqual(['/v1/chat/completions']); // the gateway let go of the upstream
    up.release();
    await quiet();
    expect(await held('abort')).toEqual([ESTIMATE, ESTIMATE]);
  });

  it('a client that aborts before the first byte: refunded to 0', async () => {
    const ac = new AbortController();
    const pending = post('early', 'hang', ac.signal).catch((e: unknown) => e);
    const end = Date.now() + 4000;
    while (!up.received.some((r) => r.body.model === 'hang') && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    expect(await held('early')).toEqual([ESTIMATE, ESTIMATE]); // reserved while in flight
    ac.abort();
    await pending;
    expect(await settlesTo('early', 0)).toEqual([0, 0]);
  });

  it('an upstream failure: refunded to 0', async () => {
    const err = await oa('broken').chat.completions.create({ model: 'broken', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(await settlesTo('broken', 0)).toEqual([0, 0]);
  });
});
