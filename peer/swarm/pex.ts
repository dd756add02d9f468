// Peer exchange (ut_pex, BEP 11) for one torrent, both ways. Out: at most once a minute, each peer that
// speaks it is told which of our handshaken peers came and went since its last message (50 of each at
// most, as libtorrent), with their flags. In: what a peer tells us goes into the torrent's PeerDirectory,
// the one trackers feed: never an address of ours, a banned one or one that cannot be dialled, and at most
// PEX_LEARN_PER_MESSAGE new ones from a message, one message per PEX_MIN_GAP_MS per peer, so no peer can make
// us dial more than a bounded number of addresses (the directory caps what PEX adds in all). A private
// torrent (BEP 27) does neither, and does not name ut_pex in its handshakes.
import { formatIPv4, formatIPv6, isIPv6, parseIPv4, parseIPv6, type PeerAddress } from "../../shared/compact.ts";
import { decodePexMessage, encodePexMessage, PexFlag, UT_PEX, type PexPeer } from "../../shared/wire/ut-pex.ts";
import { machineAddresses } from "../net/machine-addresses.ts";
import { addressKey, type PeerDirectory } from "./peer-directory.ts";
import type { SwarmPeer } from "./swarm-peer.ts";

/** BEP 11: no more than one message a minute to a peer. */
export const PEX_INTERVAL_MS = 60_000;
/** Added (and dropped) peers in one message at most: BEP 11's and libtorrent's 50. */
export const PEX_MAX_LISTED = 50;
/** New addresses taken from one incoming message at most. */
export const PEX_LEARN_PER_MESSAGE = 25;
/** A peer's messages closer together than this are ignored unread (libtorrent drops a peer past 3 a minute). */
export const PEX_MIN_GAP_MS = 20_000;
/** Our addresses as peers report them (`yourip`) kept at most: a peer could name anything. */
const MAX_REPORTED_SELF = 8;

export interface PexHooks {
  /** The port we listen on: an address of ours with it is never learnt. */
  ourPort(): number;
  /** `from` told us of addresses new to the directory. */
  learned(from: SwarmPeer, added: PeerAddress[]): void;
}

interface PexPeerState {
  /** What this peer has been told is connected to us, and not told dropped since (by address key). */
  readonly told: Map<string, PexPeer>;
  nextSendAt: number;
  lastReceivedAt: number;
}

export class PeerExchange {
  private readonly states = new Map<number, PexPeerState>();
  /** Our IPs as peers say they see us (`yourip`), beside the machine's own (machineAddresses). */
  private readonly reportedIps = new Set<string>();

  constructor(
    /** False for a private torrent. */
    private readonly enabled: boolean,
    private readonly directory: PeerDirectory,
    private readonly hooks: PexHooks,
  ) {}

  /** A ut_pex message from `peer` (a malformed one throws WireError: the connection closes). */
  received(peer: SwarmPeer, payload: Uint8Array, now: number): void {
    if (!this.enabled) return;
    const state = this.stateOf(peer);
    if (now - state.lastReceivedAt < PEX_MIN_GAP_MS) return;
    state.lastReceivedAt = now;
    const learned: PeerAddress[] = [];
    for (const p of decodePexMessage(payload).added) {
      if (learned.length >= PEX_LEARN_PER_MESSAGE) break;
      if (!dialable(p) || this.isSelf(p) || this.directory.isBanned(p.ip)) continue;
      if (this.directory.learn({ ip: p.ip, port: p.port }, (p.flags & PexFlag.seed) !== 0)) learned.push({ ip: p.ip, port: p.port });
    }
    if (learned.length > 0) this.hooks.learned(peer, learned);
  }

  /** The peer's extension handshake arrived: its `yourip` is an address of ours. */
  handshake(peer: SwarmPeer): void {
    const yourIp = peer.conn.peerExtensions?.yourIp;
    if (!yourIp || this.reportedIps.size >= MAX_REPORTED_SELF) return;
    this.reportedIps.add(yourIp.length === 4 ? formatIPv4(yourIp) : formatIPv6(yourIp));
  }

  /** Once a tick: the peers due a message get what changed since their last one. */
  tick(now: number, peers: readonly SwarmPeer[]): void {
    if (!this.enabled) return;
    let listing: Map<string, PexPeer> | null = null;
    for (const peer of peers) {
      const id = peer.conn.peerExtensions?.m.get(UT_PEX);
      if (id === undefined || peer.conn.state !== "open") continue;
      const state = this.stateOf(peer);
      if (now < state.nextSendAt) continue;
      listing ??= listingOf(peers);
      const self = listedAddress(peer);
      const added = [...listing].filter(([key]) => key !== self && !state.told.has(key)).slice(0, PEX_MAX_LISTED);
      const dropped = [...state.told].filter(([key]) => !listing!.has(key)).slice(0, PEX_MAX_LISTED);
      if (added.length === 0 && dropped.length === 0) continue;
      peer.conn.send({ type: "extended", id, payload: encodePexMessage({ added: added.map(([, p]) => p), dropped: dropped.map(([, p]) => p) }) });
      for (const [key, p] of added) state.told.set(key, p);
      for (const [key] of dropped) state.told.delete(key);
      state.nextSendAt = now + PEX_INTERVAL_MS;
    }
  }

  forget(connectionId: number): void {
    this.states.delete(connectionId);
  }

  private isSelf(address: PeerAddress): boolean {
    return address.port === this.hooks.ourPort() && (this.reportedIps.has(address.ip) || machineAddresses().has(address.ip));
  }

  private stateOf(peer: SwarmPeer): PexPeerState {
    let state = this.states.get(peer.id);
    if (!state) {
      state = { told: new Map(), nextSendAt: 0, lastReceivedAt: -Infinity };
      this.states.set(peer.id, state);
    }
    return state;
  }
}

/** Our handshaken peers as BEP 11 lists them: where they accept connections, and their flags. */
function listingOf(peers: readonly SwarmPeer[]): Map<string, PexPeer> {
  const listing = new Map<string, PexPeer>();
  for (const peer of peers) {
    const key = listedAddress(peer);
    if (key === null) continue;
    const conn = peer.conn;
    // Encryption: the peer speaks MSE with us, or its extension handshake says it prefers it (`e`).
    const encrypted = conn.encryption !== "none" || conn.peerExtensions?.encryption === true;
    const flags = (conn.peerPieces.isComplete() ? PexFlag.seed : 0) | (conn.outgoing ? PexFlag.reachable : 0) | (encrypted ? PexFlag.encryption : 0);
    listing.set(key, { ip: conn.address.ip, port: conn.outgoing ? conn.address.port : conn.peerExtensions!.port!, flags });
  }
  return listing;
}

/**
 * Where the peer accepts connections, as a directory key: the address we dialled, or for a peer that
 * dialled us its IP and the listen port it told us (libtorrent does not list one that did not either).
 */
function listedAddress(peer: SwarmPeer): string | null {
  const conn = peer.conn;
  if (conn.state !== "open") return null;
  if (conn.outgoing) return addressKey(conn.address);
  const port = conn.peerExtensions?.port;
  return port === undefined ? null : addressKey({ ip: conn.address.ip, port });
}

/** False for what no peer can be at: the unspecified address, "this network", multicast, broadcast. */
function dialable({ ip, port }: PeerAddress): boolean {
  if (port === 0) return false;
  if (!isIPv6(ip)) {
    const v4 = parseIPv4(ip);
    return v4 !== null && v4[0] !== 0 && v4[0]! < 224;
  }
  const v6 = parseIPv6(ip);
  return v6 !== null && v6[0] !== 0xff && v6.some((b) => b !== 0);
}
