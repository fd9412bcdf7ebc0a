/**
 * The gateway-owned registry: get-or-create keeps one series per name across pipeline versions.
 */
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from './metrics.ts';

describe('createMetricsRegistry', () => {
  it('returns the same series for the same name, so counts survive a re-registration', async () => {
    const m = createMetricsRegistry({ defaultMetrics: false });
    const a = m.counter({ name: 'x_total', help: 'x', labelNames: ['k'] as const });
    a.inc({ k: 'v' }, 2);
    const b = m.counter({ name: 'x_total', help: 'x', labelNames: ['k'] as const });
    b.inc({ k: 'v' });
    expect(b).toBe(a);
    expect((await m.render()).body).toContain('x_total{k="v"} 3');
  });

  it('rejects a name registered with other labels or another type', () => {
    const m = createMetricsRegistry({ defaultMetrics: false });
    m.gauge({ name: 'g', help: 'g', labelNames: ['a'] as const });
    expect(() => m.gauge({ name: 'g', help: 'g', labelNames: ['b'] as const })).toThrow(/already registered/);
    expect(() => m.counter({ name: 'g', help: 'g', labelNames: ['a'] as const })).toThrow(/already registered/);
  });

  it('keeps registries apart and includes process metrics by default', async () => {
    const one = createMetricsRegistry();
    const two = createMetricsRegistry();
    one.counter({ name: 'only_in_one_total', help: 'x' }).inc();
    expect((await two.render()).body).not.toContain('only_in_one_total');
    const out = await one.render();
    expect(out.body).toContain('process_cpu_user_seconds_total');
    expect(out.contentType).toContain('text/plain');
  });

  it('rebinds collect callbacks to the latest registration (the newest pipeline version)', async () => {
    const m = createMetricsRegistry({ defaultMetrics: false });
    const g = m.gauge({ name: 'live', help: 'x', collect: () => void g.set(1) });
    m.gauge({ name: 'live', help: 'x', collect: () => void g.set(2) });
    m.gauge({ name: 'live', help: 'x' }); // a plain lookup keeps the callback
    expect((await m.render()).body).toContain('live 2');
  });

  it('uses a custom exposition when given (the worker bridge)', async () => {
    const m = createMetricsRegistry({ defaultMetrics: false, render: async () => 'summed 1\n' });
    expect((await m.render()).body).toBe('summed 1\n');
  });
});
