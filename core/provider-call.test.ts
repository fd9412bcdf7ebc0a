/**
 * The call a provider receives: its fields, a lazy `logger` and `onDone` survive `{ ...call }`
 * (providers and adapters re-issue calls that way), over real HTTP with the official SDK.
 */
import OpenAI from 'openai';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestGateway, mock, type Provider, type TestGateway } from 'switchyard';
import { Abort, signalOf } from './abort.ts';
import { sourceOf } from './dispatch.ts';

const seen: Array<Record<string, unknown>> = [];
const done: string[] = [];
const lines: string[] = [];

/** Re-issues every call as a spread copy, logs through it and registers an `onDone` on it. */
const spreading = (): Provider => {
  const inner = mock();
  return {
    kind: 'spreading',
    format: 'ir',
    async call(call) {
      const copy = { ...call, request: call.request };
      copy.logger.info({ marker: 'from-copy' }, 'provider log');
      copy.onDone?.(() => void done.push(copy.requestId));
      seen.push({ name: copy.name, model: copy.target.model, requestId: copy.requestId, aborted: copy.signal.aborted, hasDispatcher: !!copy.dispatcher });
      return inner.call(copy);
    },
  };
};

const sources: Array<Record<string, unknown>> = [];

/** Looks at the abort source the core's own reads use, for the call and for a copy with its own signal. */
const sourcing = (): Provider => {
  const inner = mock();
  return {
    kind: 'sourcing',
    format: 'ir',
    async call(call) {
      const source = sourceOf(call);
      const own = new AbortController().signal;
      sources.push({ isAbort: source instanceof Abort, sameSignal: signalOf(source) === call.signal, copy: sourceOf({ ...call, signal: own }) === own });
      return inner.call(call);
    },
  };
};

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway({
    config: { providers: { sp: spreading(), so: sourcing() }, models: { demo: 'sp/echo', sourced: 'so/echo' } },
    logStream: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }),
  });
});
afterAll(() => gw?.close());

it('keeps every field, the request logger and onDone on a spread copy of the call', async () => {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const res = await client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  expect(res.data.choices[0]!.message.content).toBe('hi'); // the mock echoes
  const id = res.response.headers.get('x-request-id')!;
  expect(seen.at(-1)).toEqual({ name: 'sp', model: 'echo', requestId: id, aborted: false, hasDispatcher: true });
  await expect.poll(() => done).toContain(id);
  const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.marker === 'from-copy');
  expect(logged).toMatchObject({ requestId: id, msg: 'provider log' });
});

it('reads the attempt\'s abort source without its signal; a copy with its own signal uses that signal', async () => {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  await client.chat.completions.create({ model: 'sourced', messages: [{ role: 'user', content: 'hi' }] });
  expect(sources.at(-1)).toEqual({ isAbort: true, sameSignal: true, copy: true });
});
