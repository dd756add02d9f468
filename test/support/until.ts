// Waiting for a condition that a timer, a socket or another process makes true. The bound is a safety net,
// not a timed assertion: it is set far above what the wait takes, and only ends a test that would hang.

/** Polls `what` every `everyMs` until it holds; after `tries` polls, throws naming `label`. */
export async function until(what: () => boolean, label: string, { tries = 500, everyMs = 10 } = {}): Promise<void> {
  for (let i = 0; i < tries && !what(); i++) await Bun.sleep(everyMs);
  if (!what()) throw new Error(`gave up waiting for ${label}`);
}
