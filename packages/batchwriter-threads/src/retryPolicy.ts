// When to try again: exponential backoff with ±25 % jitter, kept between the configured
// minimum and maximum, and whether another attempt is allowed at all. Pure.

export interface RetryLimits {
  /** Attempts after the first; -1 = no limit (until success or the close deadline). */
  retries: number;
  retryBackoffMinMs: number;
  retryBackoffMaxMs: number;
}

/** Delay before attempt number `attempt` (2 = the first retry). `random` is in [0, 1). */
export function backoffMs(attempt: number, limits: RetryLimits, random: () => number = Math.random): number {
  const { retryBackoffMinMs: min, retryBackoffMaxMs: max } = limits;
  const exponential = Math.min(max, min * 2 ** Math.max(0, attempt - 2));
  const jittered = exponential * (0.75 + random() * 0.5);
  return Math.round(Math.min(max, Math.max(min, jittered)));
}

/** True when attempt number `attempt` (1-based) may still be made. */
export function mayAttempt(attempt: number, limits: RetryLimits): boolean {
  return limits.retries === -1 || attempt <= limits.retries + 1;
}

/** Resolves after `ms`, or at once when `signal` aborts (resolving false). */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
