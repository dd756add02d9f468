// The UDP tracker (BEP 15) on Web-standard APIs: one function from a datagram and its sender to the
// reply datagram, or null for none. The runtime adapters own the socket; announces and scrapes go
// through the same core (announce-core.ts) and store as HTTP.
//
// Never an amplifier: a request whose connection id is not ours for the sender's address gets no
// reply at all (that address may be spoofed), so the only thing an unconnected sender can get is a
// 16-byte connect reply to its 16-byte connect request. Malformed packets are dropped, or answered
// with an error packet when they carry a valid connection id.
import { encodeCompactPeer, formatIPv4 } from "../../shared/compact.ts";
import {
  decodeRequest,
  encodeAnnounceResponse,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeResponse,
  ACTION,
  ANNOUNCE_REQUEST_BYTES,
  ANNOUNCE_RESPONSE_HEADER_BYTES,
  EVENTS,
  MAX_SCRAPE_HASHES,
  PEER_BYTES,
  UdpCodecError,
  writeAnnounceHeader,
  type AnnounceRequest,
  type Family,
  type ScrapeRequest,
  type UdpEvent,
} from "../../shared/udp-tracker/index.ts";
import { readI32, readU16, readU32, readU64 } from "../../shared/udp-tracker/wire.ts";
import { announcePeer, announcePeerInto, type BytesAnnounceFields, nextInterval, scrapeCounts, type TrackerCore } from "../announce-core.ts";
import { canonicalIp } from "../client-ip.ts";
import { TrackerError } from "../errors.ts";
import { idHex, keyHex } from "../hex-ids.ts";
import type { AnnounceEvent } from "../store/swarm-store.ts";
import { ConnectionIds } from "./connection-id.ts";

/**
 * Peers per announce reply, so a reply fits one unfragmented datagram on a 1500-byte link (IPv4 and
 * UDP headers 28 bytes, IPv6 and UDP 48): 242 IPv4 peers, 79 IPv6 peers.
 */
const MAX_REPLY_PEERS: Record<Family, number> = { 4: Math.floor((1500 - 28 - 20) / 6), 6: Math.floor((1500 - 48 - 20) / 18) };

const EVENT_OF: Record<UdpEvent, AnnounceEvent> = { none: "", completed: "completed", started: "started", stopped: "stopped" };
/** The same by wire number (0-3). */
const EVENT_BY_NUMBER: readonly AnnounceEvent[] = EVENTS.map((e) => EVENT_OF[e]);

/** Bytes of the largest reply: an announce reply that fills a 1500-byte link's datagram. */
export const MAX_REPLY_BYTES = 1500 - 28;

/**
 * What respond() gives: a reply's length when it wrote the reply into the caller's buffer; a reply
 * it built itself; null for no reply; or a promise of one of those last two (a store not in this
 * process).
 */
export type Response = number | Uint8Array | null | Promise<Uint8Array | null>;

export interface UdpTrackerOptions {
  core: TrackerCore;
  connectionIds?: ConnectionIds;
  /** The clock, in Unix milliseconds (tests move it to expire connection ids). */
  now?: () => number;
}

export class UdpTracker {
  private readonly core: TrackerCore;
  private readonly ids: ConnectionIds;
  private readonly now: () => number;
  /** Where handle() and receive() have respond() write. */
  private readonly scratch = new Uint8Array(MAX_REPLY_BYTES);
  /** The store call of announceInPlace, reused. */
  private readonly call: BytesAnnounceFields = {
    ids: EMPTY,
    idsAt: 16,
    ip: "",
    port: 0,
    left: 0,
    event: "",
    numwant: 0,
    key: undefined,
    family: 4,
    downloaded: 0,
    uploaded: 0,
  };

  constructor(opts: UdpTrackerOptions) {
    this.core = opts.core;
    this.ids = opts.connectionIds ?? ConnectionIds.withRandomKey();
    this.now = opts.now ?? Date.now;
  }

  /**
   * For the adapters: answers one datagram through `send`, if at all. Never throws or rejects: a
   * failure is logged and the datagram dropped (the client retries, as BEP 15 has it do).
   */
  receive(packet: Uint8Array, address: string, port: number, send: (reply: Uint8Array) => void): void {
    const reply = this.respond(packet, address, port, this.scratch, 0);
    if (typeof reply === "number") {
      if (reply > 0) send(this.scratch.slice(0, reply));
    } else if (reply instanceof Promise) {
      reply.then((r) => {
        if (r !== null) send(r);
      }, this.logBug);
    } else if (reply !== null) send(reply);
  }

  /** `address` as the runtime reports it (IPv4-mapped IPv6 counts as IPv4). Null: send nothing. */
  async handle(packet: Uint8Array, address: string, port: number): Promise<Uint8Array | null> {
    const reply = this.respond(packet, address, port, this.scratch, 0);
    return typeof reply === "number" ? (reply > 0 ? this.scratch.slice(0, reply) : null) : reply;
  }

  /**
   * Answers one datagram, into `out` from `outAt` (room for MAX_REPLY_BYTES) where it can: an
   * announce to a store in this process is answered there at once, its peers copied into place by
   * the store, with no object made for the request or the reply. Anything else takes the general
   * path. Never throws: a failure is logged and answered with nothing.
   */
  respond(packet: Uint8Array, address: string, port: number, out: Uint8Array, outAt: number): Response {
    const ip = canonicalIp(address);
    return ip === null ? null : this.respondFrom(packet, ip, port, out, outAt);
  }

  /**
   * respond for a sender whose address is canonical text already (client-ip.ts normalizeIp), as an
   * adapter that formats IPv4 addresses itself has it: no lookup of the text in canonicalIp's memo.
   */
  respondFrom(packet: Uint8Array, ip: string, port: number, out: Uint8Array, outAt: number): Response {
    try {
      const fast = this.announceInPlace(packet, ip, port, out, outAt);
      if (fast !== SKIPPED) return fast;
      const reply = this.general(packet, ip, port);
      return reply instanceof Promise ? reply.catch(this.logBugAndDrop) : reply;
    } catch (err) {
      this.logBug(err);
      return null;
    }
  }

  private readonly logBug = (err: unknown): void =>
    this.core.log.error(`udp tracker bug: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);

  private readonly logBugAndDrop = (err: unknown): null => {
    this.logBug(err);
    return null;
  };

  /**
   * A well-formed announce with a valid connection id, answered in place when the store can write
   * into `out`: the fields read straight from the packet (no BigInt, no copies), the ids handed over
   * as the packet's bytes. SKIPPED for anything else.
   */
  private announceInPlace(packet: Uint8Array, ip: string, port: number, out: Uint8Array, outAt: number): number | Uint8Array | null | typeof SKIPPED {
    if (packet.length < ANNOUNCE_REQUEST_BYTES || readU32(packet, 8) !== ACTION.announce) return SKIPPED;
    const eventNumber = readU32(packet, 80);
    if (eventNumber > 3) return SKIPPED;
    if (!this.ids.isValidHalves(readU32(packet, 0), readU32(packet, 4), ip, port, this.now())) return null;
    const transactionId = readU32(packet, 12);
    try {
      const peerPort = readU16(packet, 96);
      if (peerPort === 0) throw new TrackerError("bad-port", "port must be 1-65535, got 0");
      const { config } = this.core;
      const family: Family = ip.includes(":") ? 6 : 4;
      const requested = readU32(packet, 84);
      const event = EVENT_BY_NUMBER[eventNumber]!;
      const numWant = readI32(packet, 92);
      const wanted = numWant < 0 ? config.defaultNumwant : Math.min(numWant, config.maxNumwant);
      const key = readU32(packet, 88);
      const call = this.call;
      call.ids = packet;
      call.idsAt = 16;
      call.ip = config.trustIpParam && requested !== 0 && family === 4 ? formatIPv4(u32Bytes(requested)) : ip;
      call.port = peerPort;
      call.left = readU64(packet, 64);
      call.event = event;
      call.numwant = event === "stopped" ? 0 : Math.min(wanted, MAX_REPLY_PEERS[family]);
      // As libtorrent sends it over HTTP (%08X), so one client's key matches over both; 0 = none sent.
      call.key = key === 0 ? undefined : key;
      call.family = family;
      call.downloaded = readU64(packet, 56);
      call.uploaded = readU64(packet, 72);
      const result = announcePeerInto(this.core, call, out, outAt + ANNOUNCE_RESPONSE_HEADER_BYTES);
      call.ids = EMPTY;
      if (result === null) return SKIPPED;
      writeAnnounceHeader(out, outAt, transactionId, nextInterval(config), result.incomplete, result.complete);
      return ANNOUNCE_RESPONSE_HEADER_BYTES + result.written * PEER_BYTES[family];
    } catch (err) {
      this.call.ids = EMPTY;
      return this.failure(err, transactionId, packet.length);
    }
  }

  private general(packet: Uint8Array, ip: string, port: number): Uint8Array | null | Promise<Uint8Array | null> {
    let request;
    try {
      request = decodeRequest(packet);
    } catch (err) {
      if (!(err instanceof UdpCodecError)) throw err;
      return this.refuseMalformed(packet, ip, port, err);
    }
    if (request.action === "connect") {
      return encodeConnectResponse({ transactionId: request.transactionId, connectionId: this.ids.issue(ip, port, this.now()) });
    }
    // The id's halves straight from the packet (bytes 0-7 of every connected request): no BigInt.
    if (!this.ids.isValidHalves(readU32(packet, 0), readU32(packet, 4), ip, port, this.now())) return null;
    const { transactionId } = request;
    const reply = request.action === "announce" ? this.announce(request, ip) : this.scrape(request);
    return reply.catch((err) => this.failure(err, transactionId, packet.length));
  }

  /** The error packet for a failed announce or scrape (a TrackerError's message, else a logged bug). */
  private failure(err: unknown, transactionId: number, requestBytes: number): Uint8Array {
    let failure: TrackerError;
    if (err instanceof TrackerError) failure = err;
    else {
      this.logBug(err);
      failure = new TrackerError("internal", "internal tracker error");
    }
    this.core.counters.failed(failure.code);
    return errorReply(transactionId, failure.message, requestBytes);
  }

  private async announce(req: AnnounceRequest, sender: string): Promise<Uint8Array> {
    const { config } = this.core;
    if (req.port === 0) throw new TrackerError("bad-port", "port must be 1-65535, got 0");
    const family: Family = sender.includes(":") ? 6 : 4;
    // The ip field is an IPv4 address; like HTTP's `ip` parameter, honoured only when configured.
    const ip = config.trustIpParam && req.ip !== 0 && family === 4 ? formatIPv4(u32Bytes(req.ip)) : sender;
    const event = EVENT_OF[req.event];
    const wanted = req.numWant < 0 ? config.defaultNumwant : Math.min(req.numWant, config.maxNumwant);
    const numwant = event === "stopped" ? 0 : Math.min(wanted, MAX_REPLY_PEERS[family]);
    const { result, interval } = await announcePeer(this.core, {
      infoHash: idHex(req.infoHash),
      peerId: idHex(req.peerId),
      ip,
      port: req.port,
      left: req.left,
      event,
      numwant,
      // As libtorrent sends it over HTTP (%08X), so one client's key matches over both; 0 = none sent.
      key: req.key === 0 ? undefined : keyHex(req.key),
      compactOnly: true,
    });
    // A reply carries peers of the request's family only: the client reads every entry as that size.
    let forms: Uint8Array | Uint8Array[];
    if (result.compact) forms = family === 4 ? result.compact.v4 : result.compact.v6;
    else {
      const size = PEER_BYTES[family];
      forms = [];
      for (const p of result.peers) {
        const form = p.compact ?? encodeCompactPeer(p);
        if (form.length === size) forms.push(form);
      }
    }
    return encodeAnnounceResponse({ transactionId: req.transactionId, interval, leechers: result.incomplete, seeders: result.complete, peers: forms }, family);
  }

  private async scrape(req: ScrapeRequest): Promise<Uint8Array> {
    const limit = Math.min(this.core.config.maxScrapeHashes, MAX_SCRAPE_HASHES);
    if (req.infoHashes.length > limit) {
      throw new TrackerError("too-many-hashes", `at most ${limit} info hashes per scrape`);
    }
    const counts = await scrapeCounts(this.core, req.infoHashes.map(idHex));
    // Entries stay in request order (the client matches them by position): unserved torrents read 0.
    const entries = counts.map((c) => ({ seeders: c?.complete ?? 0, completed: c?.downloaded ?? 0, leechers: c?.incomplete ?? 0 }));
    return encodeScrapeResponse({ transactionId: req.transactionId, entries });
  }

  /** A connected request we cannot read gets an error packet; anything else is dropped. */
  private refuseMalformed(packet: Uint8Array, ip: string, port: number, err: UdpCodecError): Uint8Array | null {
    if (packet.length < 16 || err.code === "bad-protocol-id" || err.code === "unknown-action") return null;
    if (!this.ids.isValidHalves(readU32(packet, 0), readU32(packet, 4), ip, port, this.now())) return null;
    return errorReply(readU32(packet, 12), err.message, packet.length);
  }
}

/** An error packet no larger than the request it answers (messages are ASCII: cut by characters). */
function errorReply(transactionId: number, message: string, requestBytes: number): Uint8Array {
  return encodeErrorResponse({ transactionId, message: message.slice(0, Math.max(0, requestBytes - 8)) });
}

/** announceInPlace: not an announce it answers in place. */
const SKIPPED = Symbol("skipped");
const EMPTY = new Uint8Array(0);

function u32Bytes(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}
