// The peers of a magnet link's torrent while it fetches its metadata: who is connected, the addresses known,
// the bans, the slots and the dials. The MagnetTorrent handles their messages; once the metadata is in, all
// of it but the dials still handshaking goes over to the Torrent (for a private .torrent handed over, the bans alone).
import type { TorrentHost } from "../client/torrent-host.ts";
import { PeerConnection, type ConnectionHandler, type TorrentBinding } from "../net/peer-connection.ts";
import { Admission } from "../swarm/admission.ts";
import { Dialer } from "../swarm/dialer.ts";
import { checkLiveness, expireHandshakes } from "../swarm/liveness.ts";
import { PeerDirectory } from "../swarm/peer-directory.ts";
import { PeerGate } from "../swarm/peer-gate.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import type { TorrentEvent } from "../torrent/events.ts";
import type { Handover } from "../torrent/options.ts";

/** What of the fetch's peers goes over to the Torrent: everything, or the bans alone (every connection closed, no address kept). */
export type PeersHandedOver = "all" | "bans-only";

export interface MagnetSwarmOptions {
  host: TorrentHost;
  binding: TorrentBinding;
  /** Who hears the peers' messages: the MagnetTorrent. */
  handler: ConnectionHandler;
  maxPeers: number;
  /** Dials wanted now (the metadata is still being fetched). */
  dialing: () => boolean;
  /** Connections the dialer may open now. */
  room: () => number;
  emit: (event: TorrentEvent) => void;
}

export class MagnetSwarm {
  readonly peers = new Map<number, SwarmPeer>();
  readonly directory = new PeerDirectory();
  readonly bannedPeerIds = new Set<string>();
  readonly admission: Admission;
  /** Who may be a peer (bans, duplicates, then the admission's slots). */
  readonly gate: PeerGate;
  readonly dialer: Dialer;

  constructor({ host, binding, handler, maxPeers, dialing, room, emit }: MagnetSwarmOptions) {
    this.admission = new Admission(maxPeers, this.peers);
    this.gate = new PeerGate(this.peers, this.directory, this.bannedPeerIds, this.admission, emit);
    this.dialer = new Dialer(
      this.directory,
      {
        room,
        seeding: () => false,
        live: dialing,
        open: (socket, address, encryption) => {
          if (!dialing()) return null;
          const options = { ourPeerId: host.peerId, listenPort: host.port, outgoing: true, address, encryption, torrent: binding };
          const conn = new PeerConnection(socket, options, handler);
          this.admission.opened(conn);
          return conn;
        },
      },
      { infoHash: binding.infoHash, encryption: host.encryption, bind: host.bind, mseLimits: host.mseLimits },
    );
  }

  connectionCount(): number {
    return this.peers.size + this.admission.ownHandshakes();
  }

  /** Stops dialling and closes every connection, handshaking or open. */
  closeAll(): void {
    this.dialer.quiet();
    for (const conn of [...this.admission.handshaking]) conn.close({ code: "shutting-down" });
    for (const peer of [...this.peers.values()]) peer.conn.close({ code: "shutting-down" });
  }

  /** Once a second: handshakes that took too long, peers gone silent, the admission's slots. */
  tick(now: number): void {
    expireHandshakes(this.admission.handshaking, now);
    checkLiveness(this.peers.values(), now);
    this.admission.tick(now);
  }

  /** The metadata is in: the open peers, the known addresses and the bans (or the bans alone), for the Torrent. */
  handover(what: PeersHandedOver): Omit<Handover, "trackersTold"> {
    this.dialer.quiet();
    // Dials still handshaking cannot be bound again before their handshake: they go, the open peers stay.
    for (const conn of [...this.admission.handshaking]) conn.close({ code: "local", detail: "metadata complete; dialled again by the torrent" });
    if (what === "bans-only") {
      // BEP 27: a private torrent's peers come from its own trackers alone. These came from the link (its
      // trackers, its x.pe, the DHT) or found us through it, and which from where is not kept: all go.
      const detail = "the torrent is private (BEP 27): its peers come from its own trackers";
      for (const peer of [...this.peers.values()]) peer.conn.close({ code: "local", detail });
      this.peers.clear();
      return { peers: [], directory: this.directory.bansOnly(), bannedPeerIds: this.bannedPeerIds };
    }
    const handover = { peers: [...this.peers.values()], directory: this.directory, bannedPeerIds: this.bannedPeerIds };
    this.peers.clear();
    return handover;
  }
}
