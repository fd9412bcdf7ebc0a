/**
 * The metrics plugin's pure parts: attempt outcomes and the route's access option. Request
 * counting, reloads and cardinality run end to end in test/metrics.e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { attemptOutcome, metrics, registerSeries, CIRCUIT_STATE } from './index.ts';

describe('attemptOutcome', () => {
  it.each([
    [{ status: 200 }, 'ok'],
    [{}, 'ok'],
    [{ status: 429, code: 'rate_limit_exceeded' }, '4xx'],
    [{ status: 503, code: 'upstream_error' }, '5xx'],
    [{ status: 504, code: 'upstream_timeout' }, 'timeout'],
    [{ status: 502, code: 'upstream_unreachable' }, 'connect_error'],
    [{ status: 499, code: 'client_aborted' }, 'aborted'],
    [{ code: 'something_else' }, '5xx'],
  ])('%j → %s', (a, want) => {
    expect(attemptOutcome(a)).toBe(want);
  });
});

describe('metrics()', () => {
  it('serves /metrics behind the admin guard unless opened', () => {
    expect(metrics().routes![0]).toMatchObject({ method: 'GET', path: '/metrics', access: 'admin' });
    expect(metrics({ access: 'public', path: '/prom' }).routes![0]).toMatchObject({ path: '/prom', access: 'public' });
  });

  it('registers its series once per registry, shared with plugins that define one of them', () => {
    const m = createMetricsRegistry({ defaultMetrics: false });
    const circuit = m.gauge(CIRCUIT_STATE); // e.g. failover, on an earlier version
    const a = registerSeries(m);
    const b = registerSeries(m);
    expect(a.requests).toBe(b.requests);
    expect(a.circuit).toBe(circuit);
  });
});
