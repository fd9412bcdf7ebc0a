/**
 * The `--workers` guard and the config flag it reads. The cluster itself runs end to end in
 * test/workers.e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.ts';
import { assertWorkersAllowed } from './workers.ts';
import { mock } from '../plugins/mock/index.ts';

const config = (extra: Record<string, unknown>) => resolveConfig({ providers: { echo: mock() }, ...extra }, 'gw.config.ts');

describe('assertWorkersAllowed', () => {
  it('refuses the embedded store unless the config allows per-worker state', () => {
    expect(() => assertWorkersAllowed(config({}), 2)).toThrow(/--workers 2 with the in-memory store.*allowPerWorkerState/);
    expect(() => assertWorkersAllowed(config({ server: { allowPerWorkerState: true } }), 2)).not.toThrow();
  });

  it('accepts a shared store', () => {
    expect(() => assertWorkersAllowed(config({ store: { type: 'redis', url: 'redis://127.0.0.1:6379' } }), 4)).not.toThrow();
  });

  it('server.allowPerWorkerState must be a boolean', () => {
    expect(() => config({ server: { allowPerWorkerState: 'yes' } })).toThrow(/server\.allowPerWorkerState: must be true or false/);
  });
});
