// What a torrent does with each message of a connected peer, and the periodic rechoke: the wire's side of
// the torrent, apart from its lifecycle and its peers coming and going (torrent.ts).
import { EXTENSION_HANDSHAKE_ID } from "../../shared/wire/extension.ts";
import type { WireMessage } from "../../shared/wire/types.ts";
import { UT_METADATA_ID, UT_PEX_ID } from "../net/extension-handshake.ts";
import type { Choker } from "../upload/choker.ts";
import type { Downloader } from "../pieces/downloader.ts";
import type { PeerExchange } from "../swarm/pex.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import type { Uploader } from "../upload/uploader.ts";
import type { MetadataServer } from "../metadata/metadata-server.ts";

/** The torrent's parts a peer's messages act on. */
export interface PeerParts {
  readonly peers: ReadonlyMap<number, SwarmPeer>;
  readonly downloader: Downloader;
  readonly uploader: Uploader;
  readonly choker: Choker;
  readonly pex: PeerExchange;
  /** Serves our info dictionary to peers that ask (ut_metadata). */
  readonly metadata: MetadataServer;
}

export function handlePeerMessage(parts: PeerParts, peer: SwarmPeer, message: WireMessage): void {
  const { downloader, uploader } = parts;
  const conn = peer.conn;
  switch (message.type) {
    case "piece":
      return downloader.blockReceived(peer, message.index, message.begin, message.block);
    case "request": {
      const problem = uploader.requested(peer, message.index, message.begin, message.length);
      if (problem) conn.close(problem);
      return;
    }
    case "cancel":
      return uploader.cancelled(peer, message.index, message.begin, message.length);
    case "bitfield":
    case "have-all":
    case "have-none":
      return downloader.bitfieldReceived(peer, conn.replacedPieces);
    case "have":
      return downloader.haveReceived(peer, message.index);
    case "unchoke":
      return downloader.fill(peer);
    case "choke":
      return downloader.choked(peer);
    case "interested":
      uploader.interested(peer);
      if (conn.amChoking && parts.choker.hasFreeSlot([...parts.peers.values()])) conn.send({ type: "unchoke" });
      return;
    case "not-interested":
      if (!conn.amChoking) {
        conn.send({ type: "choke" });
        uploader.choked(peer);
      }
      return;
    // The fast extension (BEP 6); the connection already refused them from a peer without its bit.
    case "reject":
      return downloader.rejected(peer, message.index, message.begin, message.length);
    case "allowed-fast":
      return downloader.allowedFast(peer, message.index);
    case "suggest":
      return; // advisory: our picker goes by rarity
    case "extended": {
      if (message.id === UT_PEX_ID) return parts.pex.received(peer, message.payload, Date.now());
      // A malformed ut_metadata message throws WireError: the connection closes as for any protocol error.
      if (message.id === UT_METADATA_ID) return void parts.metadata.received(conn, message.payload);
      if (message.id !== EXTENSION_HANDSHAKE_ID) return; // an id we never gave out
      parts.pex.handshake(peer);
      // The extension handshake may raise the peer's reqq: use the room at once.
      return downloader.fill(peer);
    }
    default:
      return;
  }
}

/** Unchokes the peers the choker picks and chokes the rest. */
export function rechoke(parts: PeerParts, seeding: boolean, now: number): void {
  const peers = [...parts.peers.values()];
  const unchoke = parts.choker.decide(peers, seeding, now);
  for (const peer of peers) {
    const conn = peer.conn;
    if (unchoke.has(peer.id) && conn.amChoking) conn.send({ type: "unchoke" });
    else if (!unchoke.has(peer.id) && !conn.amChoking) {
      conn.send({ type: "choke" });
      parts.uploader.choked(peer);
    }
  }
}
