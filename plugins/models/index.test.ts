import { describe, expect, it } from 'vitest';
import { createTestGateway, mock, models, resolveConfig, type Provider } from 'switchyard';
import type { IRRequest } from '../../core/ir.ts';
import { compilePatterns, estimatePromptTokens, orderTargets, resolveName } from './resolve.ts';

const config = resolveConfig(
  {
    providers: { a: mock(), b: mock() },
    models: {
      fast: [{ provider: 'a', model: 'x', priority: 2 }, { provider: 'b', model: 'y', priority: 1 }],
      'claude-*': 'a/*',
      'claude-3-*': { provider: 'b', model: 'anthropic.*' },
      '*': 'b/catch-all',
    },
  },
  '',
);
const rc = (over: Partial<Parameters<typeof resolveName>[0]> = {}) => ({ config, patterns: compilePatterns(config), aliases: {}, discovered: new Map(), ...over });

describe('orderTargets', () => {
  it('orders by priority, then by weight', () => {
    const targets = [{ provider: 'a', model: 'x', priority: 2 }, { provider: 'b', model: 'y', priority: 1, weight: 1 }, { provider: 'c', model: 'z', priority: 1, weight: 3 }];
    expect(orderTargets(targets, () => 0).map((t) => t.provider)).toEqual(['b', 'c', 'a']);
    expect(orderTargets(targets, () => 0.5).map((t) => t.provider)).toEqual(['c', 'b', 'a']);
    // b has weight 1 of 4: it comes first for draws below 0.25, c for the rest
    expect(orderTargets(targets, () => 0.24)[0]!.provider).toBe('b');
    expect(orderTargets(targets, () => 0.26)[0]!.provider).toBe('c');
  });
});

describe('resolveName', () => {
  it('prefers logical names, then aliases, provider/model, patterns (most specific first), discovered', () => {
    expect(resolveName(rc(), 'fast')).toMatchObject({ via: 'logical', entry: 'fast' });
    expect(resolveName(rc({ aliases: { quick: 'fast' } }), 'quick')).toMatchObject({ via: 'alias', entry: 'fast' });
    expect(resolveName(rc(), 'a/raw')).toMatchObject({ via: 'direct', targets: [{ provider: 'a', model: 'raw' }] });
    expect(resolveName(rc(), 'claude-opus')).toMatchObject({ via: 'wildcard', entry: 'claude-*', targets: [{ provider: 'a', model: 'claude-opus' }] });
    expect(resolveName(rc(), 'claude-3-haiku')).toMatchObject({ entry: 'claude-3-*', targets: [{ provider: 'b', model: 'anthropic.claude-3-haiku' }] });
    expect(resolveName(rc(), 'zzz')).toMatchObject({ entry: '*', targets: [{ provider: 'b', model: 'catch-all' }] });
    const noCatchAll = resolveConfig({ providers: { a: mock() } }, '');
    const found = resolveName({ ...rc(), config: noCatchAll, patterns: [], discovered: new Map([['llama', ['a']]]) }, 'llama');
    expect(found).toMatchObject({ via: 'discovered', targets: [{ provider: 'a', model: 'llama' }] });
    expect(resolveName({ ...rc(), config: noCatchAll, patterns: [] }, 'llama')).toBeUndefined();
  });

  it('does not treat a wildcard key as a literal name', () => {
    expect(resolveName(rc(), 'claude-*')).toMatchObject({ via: 'wildcard', targets: [{ model: 'claude-*' }] });
  });
});

describe('estimatePromptTokens', () => {
  it('counts text, tools and media', () => {
    const ir: IRRequest = {
      model: 'm',
      stream: false,
      system: [{ type: 'text', text: 'x'.repeat(40) }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'y'.repeat(80) }, { type: 'image', source: { kind: 'url', url: 'http://i' } }] }],
    };
    expect(estimatePromptTokens(ir)).toBe(30 + 1000);
  });
});

describe('models()', () => {
  it('rejects alias cycles and aliases to unknown models', async () => {
    expect(() => models({ aliases: { a: 'b', b: 'a' } })).toThrow('alias cycle');
    const bad = createTestGateway({ config: { providers: { echo: mock() }, pipeline: [models({ aliases: { x: 'nowhere' } })] } });
    await expect(bad).rejects.toThrow('aliases.x: "nowhere" is not a configured model');
  });

  it('rejects discovery from a provider that cannot list models', async () => {
    const plain: Provider = { kind: 'plain', format: 'ir', call: () => Promise.reject(new Error('unused')) };
    const bad = createTestGateway({ config: { providers: { plain }, pipeline: [models({ discover: { providers: ['plain'] } })] } });
    await expect(bad).rejects.toThrow('provider "plain" cannot list its models');
  });

  it('keeps serving when discovery fails, and retries it later', async () => {
    let calls = 0;
    const flaky: Provider = {
      kind: 'flaky',
      format: 'ir',
      call: mock().call,
      async listModels() {
        if (++calls === 1) throw new Error('down');
        return ['found'];
      },
    };
    const gw = await createTestGateway({ config: { providers: { flaky }, pipeline: [models({ discover: { retryMs: 50 } })] } });
    try {
      const ask = () => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'found', messages: [{ role: 'user', content: 'x' }] }) });
      expect((await ask()).status).toBe(404);
      await new Promise((r) => setTimeout(r, 80));
      expect((await ask()).status).toBe(200);
      const providers = (await (await fetch(`${gw.url}/admin/providers`)).json()) as { providers: Array<{ discovered: { models: string[] } }> };
      expect(providers.providers[0]!.discovered.models).toEqual(['found']);
    } finally {
      await gw.close();
    }
  });
});
