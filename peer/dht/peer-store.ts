// The peers other nodes announce to us (announce_peer), bounded three ways: torrents, peers per torrent
// and peers in all; each entry expires 30 minutes after its last announce (BEP 5 leaves the time to the
// node; 30 minutes is what the mainline clients use). A full torrent drops its oldest peer for a new
// one; a full store takes no new torrents until entries expire, so a flood of made-up info hashes
// cannot push out the live ones.
import type { PeerAddress } from "../../shared/compact.ts";
import { toBinaryString } from "../../shared/bytes.ts";

export const PEER_TTL_MS = 30 * 60_000;

export interface PeerStoreLimits {
  maxTorrents: number;
  maxPeersPerTorrent: number;
  maxPeers: number;
}

export const DEFAULT_STORE_LIMITS: PeerStoreLimits = { maxTorrents: 2000, maxPeersPerTorrent: 200, maxPeers: 20_000 };

export class PeerStore {
  /** info hash (binary string) -> "ip|port" -> entry; each inner map in announce order (oldest first). */
  private readonly torrents = new Map<string, Map<string, { peer: PeerAddress; expires: number }>>();
  private total = 0;

  constructor(
    readonly limits: PeerStoreLimits = DEFAULT_STORE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  get peerCount(): number {
    return this.total;
  }

  get torrentCount(): number {
    return this.torrents.size;
  }

  /** Records an announce; returns false when the store is full and the peer was not kept. */
  add(infoHash: Uint8Array, peer: PeerAddress): boolean {
    const key = toBinaryString(infoHash);
    const peerKey = `${peer.ip}|${peer.port}`;
    const entry = { peer: { ip: peer.ip, port: peer.port }, expires: this.now() + PEER_TTL_MS };
    let peers = this.torrents.get(key);
    if (peers?.delete(peerKey)) {
      peers.set(peerKey, entry); // a re-announce: fresh expiry, now the newest
      return true;
    }
    if ((!peers && this.torrents.size >= this.limits.maxTorrents) || this.total >= this.limits.maxPeers) {
      this.expire();
      peers = this.torrents.get(key);
    }
    if (!peers) {
      if (this.torrents.size >= this.limits.maxTorrents || this.total >= this.limits.maxPeers) return false;
      peers = new Map();
      this.torrents.set(key, peers);
    }
    if (peers.size >= this.limits.maxPeersPerTorrent || this.total >= this.limits.maxPeers) {
      peers.delete(peers.keys().next().value!);
      this.total--;
    }
    peers.set(peerKey, entry);
    this.total++;
    return true;
  }

  /** Up to `max` live peers of one family, a random sample when there are more (spreads the load). */
  get(infoHash: Uint8Array, family: 4 | 6, max: number): PeerAddress[] {
    const peers = this.torrents.get(toBinaryString(infoHash));
    if (!peers) return [];
    const now = this.now();
    const live: PeerAddress[] = [];
    for (const [k, e] of peers) {
      if (e.expires <= now) {
        peers.delete(k);
        this.total--;
      } else if (e.peer.ip.includes(":") === (family === 6)) live.push(e.peer);
    }
    if (peers.size === 0) this.torrents.delete(toBinaryString(infoHash));
    for (let i = live.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [live[i], live[j]] = [live[j]!, live[i]!];
    }
    return live.slice(0, max);
  }

  /** Drops every expired entry (also run by the node's maintenance timer). */
  expire(): void {
    const now = this.now();
    for (const [key, peers] of this.torrents) {
      for (const [k, e] of peers) {
        if (e.expires <= now) {
          peers.delete(k);
          this.total--;
        }
      }
      if (peers.size === 0) this.torrents.delete(key);
    }
  }
}
