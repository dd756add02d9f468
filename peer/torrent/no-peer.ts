// The line a download ends with (exit 6) when no source of peers is left: what failed, then what the
// user can do about it, since the failure alone ("connection refused") does not say how to go on.

const NO_OTHER_SOURCE = "no --peer given, and the DHT is off or no DHT node answered";
const PEER_OR_NODE = "give a peer with --peer host:port, or a DHT node with --dht-bootstrap host:port";

/** The trackers failed: `problem` is their error, naming the tracker. */
export function noPeerFound(problem: string): string {
  return `no peer can be found: ${problem}; ${NO_OTHER_SOURCE}. To go on: check that the tracker is up and its URL right (btpeer info lists it), or ${PEER_OR_NODE}`;
}

/** `source` (the torrent, the magnet link) names no HTTP(S) or UDP tracker. */
export function noTrackerNoPeer(source: string): string {
  return `no peer can be found: no usable tracker in ${source}; ${NO_OTHER_SOURCE}. To go on: ${PEER_OR_NODE}`;
}
