/**
 * processProvider end to end: the `openai` SDK → the gateway on a real port → a real child
 * process (fixtures/fake-cli.mjs, whose first argument picks how it behaves).
 */
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, definePlugin, processProvider, type TestGateway } from 'switchyard';

const script = join(import.meta.dirname, 'fixtures', 'fake-cli.mjs');
const node = process.execPath;
const one = processProvider({ command: node, args: [script, '{model}'], maxConcurrency: 1, maxQueue: 1 });
// Its own instance: `one` answers 503 + Retry-After in a test, which failover honours for a second.
const lineup = processProvider({ command: node, args: [script, '{model}'], maxConcurrency: 1, maxQueue: 1 });
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  gw = await createTestGateway({
    config: {
      providers: {
        cli: processProvider({ command: node, args: [script, '{model}'] }),
        argcli: processProvider({ command: node, args: [script, 'args', '--', '{prompt}'], input: 'arg' }),
        appended: processProvider({ command: node, args: [script, 'args'], input: 'arg' }),
        slow: processProvider({ command: node, args: [script, '{model}'], timeoutMs: 300 }),
        mapped: processProvider({ command: node, args: [script, '{model}'], exitCodes: { 3: 400 } }),
        small: processProvider({ command: node, args: [script, '{model}'], maxOutputChars: 8 }),
        missing: processProvider({ command: join(import.meta.dirname, 'no-such-command') }),
        one,
        lineup,
      },
    },
  });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
});

const ask = (model: string, content = 'hello there') => client.chat.completions.create({ model, messages: [{ role: 'user', content }] });

async function streamText(model: string, content = 'one two three four'): Promise<{ text: string; chunks: number }> {
  const stream = await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content }] });
  let text = '';
  let chunks = 0;
  for await (const c of stream) {
    const d = c.choices[0]?.delta.content;
    if (d) {
      text += d;
      chunks++;
    }
  }
  return { text, chunks };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('processProvider', () => {
  it('feeds the prompt on stdin and answers with stdout, with estimated usage', async () => {
    const res = await ask('cli/echo');
    expect(res.choices[0]!.message.content).toBe('echo: hello there');
    expect(res.model).toBe('cli/echo'); // the name the client asked for
    expect(res.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(res.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it('streams stdout as text deltas', async () => {
    const { text, chunks } = await streamText('cli/echo');
    expect(text).toBe('echo: one two three four');
    expect(chunks).toBeGreaterThan(1);
  });

  it('renders a conversation with a system prompt as a transcript', async () => {
    const res = await client.chat.completions.create({
      model: 'cli/echo',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: 'again' },
      ],
    });
    expect(res.choices[0]!.message.content).toBe('echo: System: Be terse.\n\nUser: hi\n\nAssistant: hello\n\nUser: again');
  });

  it('passes the prompt as one argument, verbatim, without a shell', async () => {
    const prompt = `$(touch /tmp/pwned); echo "quoted" && rm -rf ~ 'single' \`x\` $& $' $1`;
    const res = await ask('argcli/any', prompt);
    expect(JSON.parse(res.choices[0]!.message.content!)).toEqual(['--', prompt]);
    const appended = await ask('appended/any', '--help');
    expect(JSON.parse(appended.choices[0]!.message.content!)).toEqual(['--help']);
  });

  it('keeps a multi-byte character whole when it is split across writes', async () => {
    expect((await ask('cli/utf8')).choices[0]!.message.content).toBe('café!');
    expect((await streamText('cli/utf8')).text).toBe('café!');
  });

  it('maps a non-zero exit to 502, or to the status exitCodes gives it with the stderr reason', async () => {
    await expect(ask('cli/fail')).rejects.toMatchObject({ status: 502, message: expect.stringContaining('process "cli" exited with code 3') });
    await expect(ask('mapped/fail')).rejects.toMatchObject({ status: 400, message: expect.stringContaining('the prompt is not allowed') });
  });

  it('turns a crash after the first streamed byte into an in-stream error', async () => {
    const stream = await client.chat.completions.create({ model: 'cli/fail-mid', stream: true, messages: [{ role: 'user', content: 'x' }] });
    let text = '';
    const read = (async () => {
      for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    })();
    await expect(read).rejects.toThrow(/exited with code 1/);
    expect(text).toBe('partial ');
  });

  it('times out a run with 504; a missing command and an over-long answer are 502', async () => {
    await expect(ask('slow/silent')).rejects.toMatchObject({ status: 504, message: expect.stringContaining('timed out') });
    await expect(ask('missing/any')).rejects.toMatchObject({ status: 502, message: expect.stringContaining('command not found') });
    await expect(ask('small/echo', 'a long enough answer')).rejects.toMatchObject({ status: 502, message: expect.stringContaining('more than 8 characters') });
  });

  it('kills the process when the client disconnects', async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'cli/hang', stream: true, messages: [{ role: 'user', content: 'x' }] },
      { signal: controller.signal },
    );
    let text = '';
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      if (text.includes('\n')) break;
    }
    const pid = Number(/pid:(\d+)/.exec(text)![1]);
    expect(isAlive(pid)).toBe(true);
    controller.abort();
    await until(() => !isAlive(pid));
  });

  it('kills a process that ignores SIGTERM with SIGKILL after the grace period', async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'cli/stubborn', stream: true, messages: [{ role: 'user', content: 'x' }] },
      { signal: controller.signal },
    );
    let text = '';
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      if (text.includes('\n')) break;
    }
    const pid = Number(/pid:(\d+)/.exec(text)![1]);
    controller.abort();
    await until(() => !isAlive(pid), 10_000);
  });

  it('bounds concurrency: one running, one queued, the next one 503 until a slot frees', async () => {
    const controller = new AbortController();
    const held = await client.chat.completions.create(
      { model: 'one/hang', stream: true, messages: [{ role: 'user', content: 'x' }] },
      { signal: controller.signal },
    );
    const it = held[Symbol.asyncIterator]();
    await it.next();
    expect(one.stats()).toEqual({ running: 1, queued: 0 });
    const queued = ask('one/echo', 'waited');
    await until(() => one.stats().queued === 1);
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'one/echo', messages: [{ role: 'user', content: 'rejected' }] }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('overloaded');
    controller.abort();
    expect((await queued).choices[0]!.message.content).toBe('echo: waited');
    await until(() => one.stats().running === 0);
  });

  it('gives a waiting client\'s place back when it leaves the queue', async () => {
    const holder = new AbortController();
    const held = await client.chat.completions.create({ model: 'lineup/hang', stream: true, messages: [{ role: 'user', content: 'x' }] }, { signal: holder.signal });
    await held[Symbol.asyncIterator]().next();
    const leaver = new AbortController();
    const left = client.chat.completions.create({ model: 'lineup/echo', messages: [{ role: 'user', content: 'leaving' }] }, { signal: leaver.signal });
    await until(() => lineup.stats().queued === 1);
    leaver.abort();
    await expect(left).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    await until(() => lineup.stats().queued === 0);
    expect(lineup.stats().running).toBe(1);
    const waiting = ask('lineup/echo', 'next in line'); // the freed place in the queue is usable
    await until(() => lineup.stats().queued === 1);
    holder.abort();
    expect((await waiting).choices[0]!.message.content).toBe('echo: next in line');
    await until(() => lineup.stats().running === 0);
  });

  it('stops a process whose result a plugin dropped unread, freeing its slot', async () => {
    const solo = processProvider({ command: node, args: [script, '{model}'], maxConcurrency: 1, maxQueue: 0 });
    // A plugin that answers itself after dispatch: the streamed result is never read.
    const replace = definePlugin({
      name: 'replace',
      async middleware(ctx, next) {
        await next();
        ctx.state.result = { type: 'ir', response: { id: 'r1', model: 'm', created: 0, content: [{ type: 'text', text: 'replaced' }], finishReason: 'stop' } };
      },
    });
    const g = await createTestGateway({ config: { providers: { solo }, pipeline: [replace] } });
    try {
      const c = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      // Streamed, so the provider answers at the process's first output and the process runs on.
      const res = await fetch(`${g.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'solo/hang', stream: true, messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('replaced');
      await until(() => solo.stats().running === 0); // the hanging process was stopped
      const again = await c.chat.completions.create({ model: 'solo/echo', messages: [{ role: 'user', content: 'y' }] });
      expect(again.choices[0]!.message.content).toBe('replaced'); // the slot is free: no 503
    } finally {
      await g.close();
    }
  });

  it('refuses a prompt that cannot be passed as an argument with 400', async () => {
    await expect(ask('argcli/any', 'a\u0000b')).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('rejects operations other than chat', async () => {
    await expect(client.embeddings.create({ model: 'cli/echo', input: 'x' })).rejects.toMatchObject({ status: 400 });
  });
});
