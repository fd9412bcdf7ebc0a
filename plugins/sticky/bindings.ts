/**
 * Session bindings for `sticky`, in the gateway store, laid out so that concurrent requests
 * (on one instance or many) never lose each other's writes — there is no read-modify-write of a
 * shared record:
 *
 * - one key per session and asked model (`b:`), replaced whole by a single `set`: last writer
 *   wins, which is what a binding means (the target that served most recently);
 * - a per-session list of the asked models (`m:`), appended with an atomic `push` and bounded,
 *   so the session view and `DELETE` can find the keys.
 *
 * A request served again by its bound target writes nothing unless the binding is older than a
 * tenth of `ttlMs`: a binding lasts between 0.9 and 1 × `ttlMs` after its last use, and a steady
 * session costs one store read per request.
 *
 * @module
 */
import type { Target } from '../../core/plugin.ts';
import type { Store } from '../../core/store.ts';

/** A binding as stored. */
export interface Bound {
  provider: string;
  model: string;
  /** Epoch ms when the session was first bound to this target. */
  boundAt: number;
  /** Epoch ms of the binding's last write. */
  usedAt: number;
}

/** The binding operations of one `sticky` plugin. */
export interface Bindings {
  /** The binding of `session` for the asked model (one store read). */
  get(session: string, asked: string): Promise<Bound | undefined>;
  /** Binds `asked` to `t`, given `prev` as read before the request (writes only when needed). */
  bind(session: string, asked: string, t: Target, prev: Bound | undefined): Promise<void>;
  /** Every live binding of a session, by asked model. */
  all(session: string): Promise<Array<[string, Bound]>>;
  /** Removes every binding of a session; returns how many there were. */
  clear(session: string): Promise<number>;
}

/** Asked-model names remembered per session (oldest dropped): bounds a session's keys. */
const MAX_MODELS = 256;

/**
 * Binding operations over a store (the plugin's namespaced `runtime.store`).
 *
 * @example
 * ```ts
 * const bindings = createBindings(runtime.store, 3_600_000);
 * const prev = await bindings.get('s1', 'fast');
 * await bindings.bind('s1', 'fast', ctx.state.target, prev);
 * ```
 */
export function createBindings(store: Store, ttlMs: number): Bindings {
  // The id's length keeps `b:` keys unambiguous whatever characters ids and model names hold.
  const bKey = (id: string, asked: string) => `b:${id.length}:${id}:${asked}`;
  const mKey = (id: string) => `m:${id}`;
  const refreshMs = ttlMs / 10;

  const all = async (id: string): Promise<Array<[string, Bound]>> => {
    const asked = [...new Set(await store.list<string>(mKey(id)))];
    const found = await Promise.all(asked.map(async (m) => [m, await store.get<Bound>(bKey(id, m))] as const));
    return found.filter((e): e is [string, Bound] => e[1] !== undefined);
  };

  return {
    get: (id, asked) => store.get<Bound>(bKey(id, asked)),
    async bind(id, asked, t, prev) {
      const now = Date.now();
      const same = prev?.provider === t.provider && prev.model === t.model;
      if (same && now - prev.usedAt < refreshMs) return;
      const b: Bound = { provider: t.provider, model: t.model, boundAt: same ? prev.boundAt : now, usedAt: now };
      await Promise.all([store.set(bKey(id, asked), b, { ttlMs }), store.push(mKey(id), asked, { max: MAX_MODELS, ttlMs })]);
    },
    all,
    async clear(id) {
      const found = await all(id);
      await Promise.all([...found.map(([m]) => store.delete(bKey(id, m))), store.delete(mKey(id))]);
      return found.length;
    },
  };
}
