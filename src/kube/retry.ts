// Optimistic concurrency: re-read and re-apply a change when someone else wrote the object first.
import { ConflictError } from './errors.js';

/** Runs `attempt` until it does not throw ConflictError, at most `times` times; the last conflict is rethrown. */
export async function retryOnConflict<T>(attempt: () => Promise<T>, times = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof ConflictError) || i >= times) throw err;
    }
  }
}
