import { describe, expect, it } from 'vitest';
import { UpstreamError } from './errors.ts';
import { JsonAnswer, tailMember } from './json-answer.ts';

const USAGE = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };

describe('tailMember', () => {
  const cases: Array<[string, string, string, unknown]> = [
    ['usage last (OpenAI Chat, Anthropic)', '{"id":"x","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}', 'usage', USAGE],
    ['spaces and newlines around', ' {\n "id": "x",\n "usage" : {"prompt_tokens":3,"completion_tokens":2,"total_tokens":5} \n}\n', 'usage', USAGE],
    ['nested objects and brackets in strings', '{"usage":{"a":{"b":[1,{"c":2}]},"s":"}]{\\"["}}', 'usage', { a: { b: [1, { c: 2 }] }, s: '}]{"[' }],
    ['another member follows (Gemini, Responses)', '{"usageMetadata":{"promptTokenCount":1},"modelVersion":"g"}', 'usageMetadata', undefined],
    ['a nested member of that name', '{"id":"x","meta":{"usage":{"prompt_tokens":1}}}', 'usage', undefined],
    ['the name inside a string', '{"content":"see \\"usage\\":{\\"prompt_tokens\\":1}"}', 'usage', undefined],
    ['not an object value', '{"id":"x","usage":null}', 'usage', undefined],
    ['no such member', '{"id":"x"}', 'usage', undefined],
    ['truncated before the end', '{"id":"x","usage":{"prompt_tokens":1}', 'usage', undefined],
    ['not JSON at all', '<html>usage</html>', 'usage', undefined],
    ['empty', '', 'usage', undefined],
    ['an array', '[{"usage":{}}]', 'usage', undefined],
    ['the value itself broken', '{"usage":{"prompt_tokens":}}', 'usage', undefined],
  ];
  it.each(cases)('%s', (_name, text, key, want) => {
    expect(tailMember(Buffer.from(text), key)).toEqual(want);
  });
});

describe('JsonAnswer', () => {
  const bytes = Buffer.from('{"id":"x","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}');

  it('parses a lazy body only when it is read, and then marks the bytes stale', () => {
    const a = new JsonAnswer('openai', bytes, undefined, undefined, { provider: 'oa', usage: { usage: USAGE } });
    expect(a.usageSource()).toEqual({ usage: USAGE });
    expect(a.untouchedBytes()).toBe(bytes);
    expect(a.peek().id).toBe('x'); // the gateway looking does not mark the bytes stale
    expect(a.untouchedBytes()).toBe(bytes);
    expect(a.body.id).toBe('x');
    expect(a.untouchedBytes()).toBeUndefined();
    expect({ ...a }.body).toEqual(JSON.parse(bytes.toString()));
  });

  it('turns a lazy body that is not JSON into a 502 naming the provider when read', () => {
    const a = new JsonAnswer('openai', Buffer.from('{"id": oops,"usage":{}}'), undefined, undefined, { provider: 'oa', usage: { usage: {} } });
    let err: unknown;
    try {
      void a.body;
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ status: 502, code: 'upstream_bad_response', message: 'upstream "oa" returned invalid JSON' });
  });

  it('keeps an assigned body', () => {
    const a = new JsonAnswer('openai', bytes, { id: 'parsed' });
    a.body = { id: 'replaced' };
    expect(a.untouchedBytes()).toBeUndefined();
    expect(a.body).toEqual({ id: 'replaced' });
    expect(a.usageSource()).toEqual({ id: 'replaced' });
  });
});
