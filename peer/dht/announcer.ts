// The DHT side of each torrent (BEP 5 use): a lookup and announce when the torrent starts and again
// every ~15 minutes (sooner, backing off, for a downloader that knows no peer and for an announce that
// reached fewer than K nodes, as during a small DHT's first minutes), the peers found handed to the
// torrent's callback (the Client feeds them into the same peer directory as trackers and PEX). Private torrents (BEP 27) are refused here, in one place.
// Lookups run a few at a time, so a daemon with a thousand torrents does not start a thousand at once.
import type { PeerAddress } from "../../shared/compact.ts";
import { toBinaryString } from "../../shared/bytes.ts";
import { machineAddresses } from "../net/machine-addresses.ts";
import { DueQueue } from "./due-queue.ts";
import { DhtError } from "./errors.ts";
import { K } from "./routing-table.ts";

export const ANNOUNCE_INTERVAL_MS = 15 * 60_000;

export interface AnnouncerOptions {
  intervalMs: number;
  /** Up to this much is added to each torrent's interval, so torrents added together spread out. */
  jitterMs: number;
  /** Lookups running at once, all torrents together. */
  maxConcurrent: number;
  /**
   * After a lookup that found nobody for a torrent that `wantsPeers()`, or an announce that fewer than K
   * nodes took, the next comes this soon (default 1 min), doubling with each such lookup up to
   * `intervalMs`: a daemon full of stalled downloads does not keep the DHT busy with them.
   */
  retryMs?: number;
}

const RETRY_MS = 60_000;

export const DEFAULT_ANNOUNCER_OPTIONS: AnnouncerOptions = { intervalMs: ANNOUNCE_INTERVAL_MS, jitterMs: 60_000, maxConcurrent: 4 };

export interface DhtTorrentEntry {
  /** The TCP port peers should connect to; "implied" lists the DHT socket's port (BEP 5 implied_port). */
  port: number | "implied";
  /** BEP 27: a private torrent must not use the DHT. */
  private: boolean;
  onPeers: (peers: PeerAddress[]) => void;
  /** After every lookup, peers found or not (events, counters). */
  onLookup?: (result: { peers: number; announcedTo: number }) => void;
  /** A torrent short of peers (a downloader that knows none) is looked up again sooner (see retryMs). */
  wantsPeers?: () => boolean;
  /** Announce our port (true) or only look for peers (a torrent that does not accept connections). */
  announce?: boolean;
}

type State = { kind: "waiting"; due: number } | { kind: "running" };

interface Torrent {
  infoHash: Uint8Array;
  entry: DhtTorrentEntry;
  state: State;
  /** Lookups in a row that fell short: nobody found while it wanted peers, or too few nodes took the announce (the retry doubles with each). */
  misses: number;
}

export interface AnnouncingNode {
  announce(infoHash: Uint8Array, port: number | "implied"): Promise<{ peers: PeerAddress[]; announcedTo: number }>;
  getPeers(infoHash: Uint8Array): Promise<PeerAddress[]>;
  /** Our address as the DHT sees it, once known (BEP 42 votes). */
  externalIp?(): string | undefined;
}

export class DhtAnnouncer {
  private readonly torrents = new Map<string, Torrent>();
  /** Waiting torrents by due time; an entry whose torrent was removed, runs, or got another due time is stale. */
  private readonly queue = new DueQueue<Torrent>();
  private running = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  /** `counted`: told of every lookup's outcome, all torrents together (the client's counters). */
  constructor(
    private readonly node: AnnouncingNode,
    private readonly options: AnnouncerOptions = DEFAULT_ANNOUNCER_OPTIONS,
    private readonly counted?: (result: { peers: number; announcedTo: number }) => void,
  ) {}

  /**
   * Starts a torrent's lookups (the first at once). A torrent already here only gets the new entry, its
   * place in the schedule kept. Throws DhtError("private-torrent") for BEP 27 torrents.
   */
  add(infoHash: Uint8Array, entry: DhtTorrentEntry): void {
    if (entry.private) throw new DhtError("private-torrent", "a private torrent (BEP 27) must not use the DHT");
    const key = toBinaryString(infoHash);
    const known = this.torrents.get(key);
    if (known) {
      known.entry = entry;
      return;
    }
    const torrent: Torrent = { infoHash, entry, state: { kind: "waiting", due: 0 }, misses: 0 };
    this.torrents.set(key, torrent);
    this.wait(torrent, 0);
    this.schedule();
  }

  remove(infoHash: Uint8Array): void {
    this.torrents.delete(toBinaryString(infoHash));
  }

  /** Moves a torrent's next lookup to now (it is short of peers); no-op while one is running. */
  lookupNow(infoHash: Uint8Array): void {
    const torrent = this.torrents.get(toBinaryString(infoHash));
    if (torrent?.state.kind !== "waiting") return;
    this.wait(torrent, 0);
    this.schedule();
  }

  /** Every torrent's next lookup to now: the table was empty and has just gained a node. */
  lookupAllNow(): void {
    for (const torrent of this.torrents.values()) if (torrent.state.kind === "waiting") this.wait(torrent, 0);
    this.schedule();
  }

  get size(): number {
    return this.torrents.size;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.torrents.clear();
    this.queue.clear();
  }

  private wait(torrent: Torrent, due: number): void {
    torrent.state = { kind: "waiting", due };
    this.queue.push(due, torrent);
  }

  /** Whether a queue entry still stands for its torrent's next lookup. */
  private current(entry: { due: number; item: Torrent }): boolean {
    const { item } = entry;
    return item.state.kind === "waiting" && item.state.due === entry.due && this.torrents.get(toBinaryString(item.infoHash)) === item;
  }

  /** Starts what is due, up to the concurrency cap, and sets the timer for the next due torrent. */
  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    const now = Date.now();
    for (let next = this.queue.peek(); next; next = this.queue.peek()) {
      if (!this.current(next)) {
        this.queue.pop();
        continue;
      }
      if (this.running >= this.options.maxConcurrent) return; // a lookup ending calls schedule() again
      if (next.due > now) {
        this.timer = setTimeout(() => this.schedule(), next.due - now);
        this.timer.unref?.();
        return;
      }
      this.queue.pop();
      void this.run(next.item);
    }
  }

  private async run(torrent: Torrent): Promise<void> {
    torrent.state = { kind: "running" };
    this.running++;
    let short = false;
    try {
      const { port, announce } = torrent.entry;
      const result =
        announce === false ? { peers: await this.node.getPeers(torrent.infoHash), announcedTo: 0 } : await this.node.announce(torrent.infoHash, port);
      // Our own announce comes back from the nodes that took it: it is not a peer found.
      const peers = port === "implied" ? result.peers : result.peers.filter((p) => !this.ours(p, port));
      // Read after the lookup: add() may have given the torrent another entry meanwhile (a torrent gone
      // dormant, or made again), and what was found is the new holder's.
      const { entry } = torrent;
      const thin = announce !== false && result.announcedTo < K;
      short = thin || (peers.length === 0 && entry.wantsPeers?.() === true);
      if (this.torrents.get(toBinaryString(torrent.infoHash)) === torrent) {
        if (peers.length > 0) entry.onPeers(peers);
        const outcome = { peers: peers.length, announcedTo: result.announcedTo };
        this.counted?.(outcome);
        entry.onLookup?.(outcome);
      }
    } catch {
      // A lookup fails only when the node closes; the next round tries again.
      short = torrent.entry.wantsPeers?.() === true;
    } finally {
      this.running--;
      torrent.misses = short ? torrent.misses + 1 : 0;
      const retry = (this.options.retryMs ?? RETRY_MS) * 2 ** Math.min(torrent.misses - 1, 16);
      const interval = short ? Math.min(retry, this.options.intervalMs) : this.options.intervalMs;
      this.wait(torrent, Date.now() + interval + Math.random() * this.options.jitterMs);
      this.schedule();
    }
  }

  /** Our own listening address: one of this machine's, or the one the DHT sees us at, on our port. */
  private ours(peer: PeerAddress, port: number): boolean {
    return peer.port === port && (machineAddresses().has(peer.ip) || peer.ip === this.node.externalIp?.());
  }
}
