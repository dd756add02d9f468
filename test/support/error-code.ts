// The typed error code a call fails with, for tests of codecs and checks that refuse with one.

// biome-ignore lint/suspicious/noExplicitAny: any constructor of the error class
type ErrorClass<E> = new (...args: any[]) => E;

/**
 * The `code` of the `type` error that `fn` throws, or "no error" when it returns. Any other error is thrown
 * on: that is a bug, not a refusal, and its stack says where.
 */
export function errorCode<E extends Error & { code: string }>(type: ErrorClass<E>, fn: () => unknown): E["code"] | "no error" {
  try {
    fn();
  } catch (error) {
    if (error instanceof type) return error.code;
    throw error;
  }
  return "no error";
}
