export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `condition` every 10 ms until it is true. After `timeoutMs` it throws with `message`,
 * which may be a function so that the error shows the state at the time of failure.
 */
export async function waitUntil(condition: () => boolean, message: string | (() => string), timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      const text = typeof message === 'function' ? message() : message;
      throw new Error(`Timed out after ${timeoutMs} ms waiting until ${text}`);
    }
    await delay(10);
  }
}
