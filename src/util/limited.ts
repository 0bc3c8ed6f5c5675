/**
 * A bound on how many tasks run at once (the resolution of references:
 * src/secrets/resolve.ts). Tasks start in the order they are given.
 */

/** Runs the tasks given to it at most `n` at a time, in the order given. */
export function limited(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active >= n) await new Promise<void>((go) => waiting.push(go));
    else active++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next(); // the slot passes on
      else active--;
    }
  };
}
