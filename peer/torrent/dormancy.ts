// A seeding torrent with nothing to do until a peer comes is dormant: a daemon may let it go, keeping only
// its record (peer/daemon/torrent-entry.ts), and make it again when a peer's handshake names it. Its
// trackers' announces go on meanwhile from the carry letGo() hands over, in the client (DormantAnnounces),
// and so does its DHT announce, its registration kept by the client (DormantDht). Being in the DHT is
// therefore no activity: it keeps no torrent awake.
// Plain functions over the torrent's parts: nothing is held per torrent for this.
import type { Downloader } from "../pieces/downloader.ts";
import type { AnnounceCarry, TrackerAnnouncer } from "../tracker/tracker-announcer.ts";
import type { PieceStore } from "./options.ts";
import type { SeedingGoals } from "./seeding-goals.ts";
import type { TorrentLifecycle } from "./state.ts";
import type { TorrentDhtLink } from "./torrent-dht.ts";
import type { TorrentPeers } from "./torrent-peers.ts";

/** What a torrent let go hands the client: its trackers' announcing (null without one), and whether it stays on the DHT (public). */
export interface DormantCarry {
  announce: AnnounceCarry | null;
  dht: boolean;
}

/**
 * Seeding with nothing to do: no peer, dial or address to dial, no tracker announce under way, no
 * seed-time goal counting, no step queued (`steps`: the torrent's start, pause, resume, recheck).
 */
export function isDormant(
  lifecycle: TorrentLifecycle,
  steps: number,
  swarm: TorrentPeers,
  tracker: TrackerAnnouncer,
  dht: TorrentDhtLink,
  goals: SeedingGoals,
  downloader: Downloader,
): boolean {
  return (
    lifecycle.state === "seeding" &&
    steps === 0 &&
    swarm.connectionCount() === 0 &&
    swarm.handshakingCount() === 0 &&
    // With trackers or the DHT, the addresses not worth a dial (seeds, ourselves, failed ones) are let go:
    // the trackers tell them again while it is dormant (one naming leechers wakes it), and a peer that
    // wants the torrent finds us on the DHT. Without either, an address known is all it has.
    (tracker.mayFindPeers() || dht.joined ? swarm.seederWouldDial() : swarm.knownPeerCount()) === 0 &&
    tracker.settled &&
    goals.seedTimeLimit === null &&
    !downloader.busy
  );
}

/**
 * Lets a dormant torrent go: its files close and it does nothing more. Its announcing is handed over (no
 * `stopped`: it has not left the swarm), and its DHT registration stays for the client to keep.
 */
export function letGo(lifecycle: TorrentLifecycle, tracker: TrackerAnnouncer, dht: TorrentDhtLink, storage: PieceStore): DormantCarry {
  const carry = { announce: tracker.handOver(), dht: dht.handOver() };
  lifecycle.enter("stopped");
  storage.close();
  return carry;
}
