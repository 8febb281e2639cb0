// Polls an assertion until it passes or time runs out: for state that converges asynchronously
// (informer caches, watches reconnecting), where a fixed sleep would be either slow or flaky.

export async function eventually<T>(check: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 20));
    }
  }
}
