/**
 * Watching the config file and every local file it imports; a change (debounced) asks the
 * gateway to build the next pipeline version. Building and swapping live in gateway.ts.
 *
 * @module
 */
import { watch, type FSWatcher } from 'chokidar';

/** A running watcher whose file set follows the config's current dependencies. */
export interface ConfigWatcher {
  /** Replaces the watched set (after a reload, the config may import different files). */
  update(files: string[]): void;
  close(): Promise<void>;
}

/**
 * Watches `files`; calls `onChange` once per burst of changes (debounced by `delayMs`).
 *
 * @example
 * ```ts
 * const w = watchFiles(loaded.dependencies, () => gateway.reload('file change'));
 * ```
 */
export function watchFiles(files: string[], onChange: (file: string) => void, delayMs = 100): ConfigWatcher {
  let watched = new Set(files);
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  const watcher: FSWatcher = watch([...watched], { ignoreInitial: true, atomic: true });
  const fire = (file: string) => {
    last = file;
    clearTimeout(timer);
    timer = setTimeout(() => onChange(last), delayMs);
  };
  watcher.on('change', fire).on('add', fire).on('unlink', fire);
  return {
    update(next) {
      const set = new Set(next);
      const removed = [...watched].filter((f) => !set.has(f));
      const added = [...set].filter((f) => !watched.has(f));
      if (removed.length) watcher.unwatch(removed);
      if (added.length) watcher.add(added);
      watched = set;
    },
    async close() {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
