// The configuration every tracker under the conformance suites runs with, and what the suites derive from it.

/** Configuration every server under test runs with (pass it as its environment variables). */
export const CONFORMANCE_ENV: Record<string, string> = {
  TRACKER_INTERVAL: "60",
  TRACKER_INTERVAL_SPREAD: "5",
  TRACKER_MIN_INTERVAL: "30",
  TRACKER_DEFAULT_NUMWANT: "10",
  TRACKER_MAX_NUMWANT: "20",
  TRACKER_MAX_SCRAPE: "8",
  // Short, so the expiry test can wait it out; every other test finishes a swarm well within it.
  TRACKER_PEER_TTL: "5",
  TRACKER_MAX_QUERY_BYTES: "2048",
};
export const PEER_TTL_MS = 5000;
