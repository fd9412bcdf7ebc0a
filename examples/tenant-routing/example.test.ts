import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from 'switchyard';

let gw: TestGateway;
const clientFor = (tenant?: string) =>
  new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: tenant ? { 'x-tenant': tenant } : {} });
const messages = [{ role: 'user' as const, content: 'hello' }];

beforeAll(async () => {
  gw = await createTestGateway({ config: join(import.meta.dirname, 'gateway.config.ts') });
});
afterAll(() => gw?.close());

it("serves a tenant's allowed model from its preferred provider", async () => {
  const { data, response } = await clientFor('acme').chat.completions.create({ model: 'smart', messages }).withResponse();
  expect(data.choices[0]!.message.content).toBe('hello');
  expect(response.headers.get('x-served-by')).toBe('acme-dedicated/smart-model-acme');
  expect(response.headers.get('x-tenant')).toBe('acme');
});

it('keeps the configured order for a tenant without a preference', async () => {
  const { response } = await clientFor('internal').chat.completions.create({ model: 'smart', messages }).withResponse();
  expect(response.headers.get('x-served-by')).toBe('shared/smart-model');
});

it('rejects a model outside the allow-list with 403, and a missing or unknown tenant with 401', async () => {
  await expect(clientFor('globex').chat.completions.create({ model: 'smart', messages })).rejects.toMatchObject({
    status: 403,
    message: expect.stringContaining('tenant "globex" may not use model "smart"'),
  });
  expect((await clientFor('globex').chat.completions.create({ model: 'fast', messages })).choices[0]!.message.content).toBe('hello');
  await expect(clientFor().chat.completions.create({ model: 'fast', messages })).rejects.toMatchObject({ status: 401 });
  await expect(clientFor('initech').chat.completions.create({ model: 'fast', messages })).rejects.toMatchObject({
    status: 401,
    message: expect.stringContaining('unknown tenant "initech"'),
  });
});

it("answers errors in the caller's own wire format", async () => {
  const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'x-tenant': 'globex' } });
  const err = await anthropic.messages.create({ model: 'smart', max_tokens: 50, messages }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
  expect((err as InstanceType<typeof Anthropic.PermissionDeniedError>).error).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
});
