/**
 * The keys and label objects `record` hands the tallies and samples, made once per label set.
 * Every label value is bounded (configured names, `other`, `none`, the four formats, a status
 * class, an attempt outcome), so these maps stop growing once each combination has been seen;
 * a request then builds no key string and no label object (it used to build five of each, and
 * hash each new key to find its cell).
 *
 * @module
 */
import type { LabelValues } from 'prom-client';

/** One label set: the key its tally or samples cell is found by, and its labels. */
export interface Labelled<T extends string> {
  key: string;
  labels: LabelValues<T>;
}

/** The series of one `format × model × provider`. */
export interface SeriesKeys {
  /** For the duration and time-to-first-token samples. */
  series: Labelled<'format' | 'model' | 'provider'>;
  /** `requests` by status class (`2xx`, …), made on first use. */
  status(statusClass: string): Labelled<'format' | 'model' | 'provider' | 'status_class'>;
  input: Labelled<'model' | 'provider' | 'type'>;
  output: Labelled<'model' | 'provider' | 'type'>;
}

/**
 * Memoized label sets for the request metrics.
 *
 * @example
 * ```ts
 * const keys = new MetricKeys();
 * const s = keys.series('openai', 'gpt-4o', 'oa');
 * tally.inc(s.status('2xx').key, s.status('2xx').labels);
 * ```
 */
export class MetricKeys {
  #series = new Map<string, Map<string, Map<string, SeriesKeys>>>();
  #attempts = new Map<string, Map<string, Labelled<'provider' | 'outcome'>>>();

  /** The label sets of `format × model × provider`. */
  series(format: string, model: string, provider: string): SeriesKeys {
    let byModel = this.#series.get(format);
    if (!byModel) this.#series.set(format, (byModel = new Map()));
    let byProvider = byModel.get(model);
    if (!byProvider) byModel.set(model, (byProvider = new Map()));
    let keys = byProvider.get(provider);
    if (!keys) byProvider.set(provider, (keys = seriesKeys(format, model, provider)));
    return keys;
  }

  /** The label set of an attempt on `provider` that ended with `outcome`. */
  attempt(provider: string, outcome: string): Labelled<'provider' | 'outcome'> {
    let byOutcome = this.#attempts.get(provider);
    if (!byOutcome) this.#attempts.set(provider, (byOutcome = new Map()));
    let l = byOutcome.get(outcome);
    if (!l) byOutcome.set(outcome, (l = { key: `${provider}\0${outcome}`, labels: { provider, outcome } }));
    return l;
  }
}

function seriesKeys(format: string, model: string, provider: string): SeriesKeys {
  const key = `${format}\0${model}\0${provider}`;
  const byStatus = new Map<string, Labelled<'format' | 'model' | 'provider' | 'status_class'>>();
  return {
    series: { key, labels: { format, model, provider } },
    status(statusClass) {
      let l = byStatus.get(statusClass);
      if (!l) byStatus.set(statusClass, (l = { key: `${key}\0${statusClass}`, labels: { format, model, provider, status_class: statusClass } }));
      return l;
    },
    input: { key: `${model}\0${provider}\0input`, labels: { model, provider, type: 'input' } },
    output: { key: `${model}\0${provider}\0output`, labels: { model, provider, type: 'output' } },
  };
}
