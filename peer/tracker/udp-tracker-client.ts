// A UDP tracker client (BEP 15) for the whole process: one socket per tracker address, connected to it
// (an ICMP refusal fails that tracker's requests at once, udp-sockets.ts), shared by every torrent's
// announces and scrapes to it; connection ids cached per tracker address
// for a minute (one connect in flight per tracker, udp-connections.ts); every request is
// retransmitted on BEP 15's schedule (15 × 2^n s) up to a cap of attempts; replies are taken only
// from the tracker a request went to, with its transaction id (see udp-transactions.ts).
import { decodeCompactPeers, type PeerAddress } from "../../shared/compact.ts";
import {
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  MAX_SCRAPE_HASHES,
  type ScrapeEntry,
  type UdpEvent,
  type UdpResponse,
} from "../../shared/udp-tracker/index.ts";
import { Connections, type Connection } from "./udp-connections.ts";
import { keyOf, TrackerSockets } from "./udp-sockets.ts";
import { resolveUdpTarget, systemResolver, type Resolver, type UdpTarget } from "./udp-target.ts";
import { UdpTrackerError } from "./udp-tracker-error.ts";
import { Transactions, type ReplyCheck, type TransactionCounts } from "./udp-transactions.ts";

export { UdpTrackerError, type UdpTrackerErrorCode } from "./udp-tracker-error.ts";

export interface UdpTrackerClientOptions {
  /** The first retransmission timeout, doubled after each one (BEP 15: 15 s). Tests shorten it. */
  retransmitBaseMs?: number;
  /** Sends per request (connect, announce or scrape) before giving up; BEP 15's schedule has 9 (n = 0..8). */
  maxAttempts?: number;
  /** How long a connection id is used (BEP 15: one minute). */
  connectionIdTtlMs?: number;
  /** Outstanding requests at most; more are refused with "busy". */
  maxOutstanding?: number;
  /** Trackers whose connection ids are remembered at most (the oldest is forgotten first). */
  maxTrackers?: number;
  /** Local addresses the sockets bind to (default: every interface). */
  bind?: { 4?: string; 6?: string };
  resolve?: Resolver;
}

export interface UdpAnnounce {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  /** The TCP port we accept peers on. */
  port: number;
  event?: "started" | "completed" | "stopped";
  left: number;
  downloaded: number;
  uploaded: number;
  /** Peers wanted; -1 leaves it to the tracker. */
  numWant?: number;
  /** BEP 15's key: the same for every announce of one torrent, so the tracker knows us across IP changes. */
  key: number;
}

export interface UdpAnnounceResult {
  /** Seconds until the next announce, as the tracker said. */
  interval: number;
  leechers: number;
  seeders: number;
  /** Peers of the family the announce went over (IPv4 over IPv4, IPv6 over IPv6). */
  peers: PeerAddress[];
}

export interface UdpTrackerCounts extends TransactionCounts {
  connectsSent: number;
  requestsSent: number;
  cachedConnections: number;
}

const SCHEDULE_MAX_N = 8;

/** One request to a tracker: its datagram for a transaction id, what counts as its reply, and when to give up. */
interface Exchange {
  encode: (tx: number) => Uint8Array;
  check: ReplyCheck;
  signal?: AbortSignal;
  /** Connected requests only: true once the connection id they carry expired (so a connect has none). */
  stale?: () => boolean;
}

/** How long the n-th send (n from 0) waits for its reply: BEP 15's 15 × 2^n s, with `baseMs` for the 15 s. */
export function retransmitTimeoutMs(baseMs: number, n: number): number {
  return baseMs * 2 ** Math.min(n, SCHEDULE_MAX_N);
}

export class UdpTrackerClient {
  private readonly baseMs: number;
  private readonly maxAttempts: number;
  private readonly table: Transactions;
  private readonly sockets: TrackerSockets;
  private readonly connections: Connections;
  private connectsSent = 0;
  private requestsSent = 0;
  private closed = false;

  constructor(private readonly options: UdpTrackerClientOptions = {}) {
    this.baseMs = options.retransmitBaseMs ?? 15_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? SCHEDULE_MAX_N + 1);
    this.connections = new Connections(options.connectionIdTtlMs ?? 60_000, options.maxTrackers ?? 4096);
    const ttlMs = options.connectionIdTtlMs ?? 60_000;
    this.connections = new Connections(ttlMs, options.maxTrackers ?? 4096);
    this.table = new Transactions(options.maxOutstanding ?? 1024);
    const table = this.table;
    // A socket lingers while its connection id may be used: the id was handed to its source port.
    this.sockets = new TrackerSockets(
      {
        receive: (packet, family, address, port) => table.receive(packet, family, address, port),
        unreachable: (target, error) => table.failTarget(target, error),
      },
      ttlMs,
      options.bind,
    );
  }

  async announce(url: string, a: UdpAnnounce, signal?: AbortSignal): Promise<UdpAnnounceResult> {
    const target = await this.target(url);
    const reply = await this.request(
      target,
      (connectionId, transactionId) =>
        encodeAnnounceRequest({
          connectionId,
          transactionId,
          infoHash: a.infoHash,
          peerId: a.peerId,
          downloaded: a.downloaded,
          left: a.left,
          uploaded: a.uploaded,
          event: (a.event ?? "none") satisfies UdpEvent,
          ip: 0,
          key: a.key,
          numWant: a.numWant ?? -1,
          port: a.port,
        }),
      (r) => (r.action === "announce" ? null : `a ${r.action} reply to an announce`),
      signal,
    );
    if (reply.action !== "announce") throw new Error("unreachable: checked by the reply check");
    return { interval: reply.interval, leechers: reply.leechers, seeders: reply.seeders, peers: decodeCompactPeers(reply.peers, target.family) };
  }

  /** Counts per info hash, in the order asked (at most 74 hashes, what one datagram carries). */
  async scrape(url: string, infoHashes: Uint8Array[], signal?: AbortSignal): Promise<ScrapeEntry[]> {
    if (infoHashes.length === 0 || infoHashes.length > MAX_SCRAPE_HASHES) {
      throw new RangeError(`a UDP scrape asks for 1 to ${MAX_SCRAPE_HASHES} info hashes, not ${infoHashes.length}`);
    }
    const target = await this.target(url);
    const reply = await this.request(
      target,
      (connectionId, transactionId) => encodeScrapeRequest({ connectionId, transactionId, infoHashes }),
      (r) =>
        r.action !== "scrape"
          ? `a ${r.action} reply to a scrape`
          : r.entries.length < infoHashes.length
            ? `${r.entries.length} scrape entries for ${infoHashes.length} info hashes`
            : null,
      signal,
    );
    if (reply.action !== "scrape") throw new Error("unreachable: checked by the reply check");
    return reply.entries.slice(0, infoHashes.length);
  }

  counts(): UdpTrackerCounts {
    return { ...this.table.counts(), connectsSent: this.connectsSent, requestsSent: this.requestsSent, cachedConnections: this.connections.size };
  }

  /** Fails what is outstanding with "closed" and closes the sockets. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.table.failAll(new UdpTrackerError("closed", "the UDP tracker client was closed"));
    this.sockets.closeAll();
    this.connections.clear();
  }

  private async target(url: string): Promise<UdpTarget> {
    if (this.closed) throw new UdpTrackerError("closed", "the UDP tracker client was closed");
    return resolveUdpTarget(url, this.options.resolve ?? systemResolver);
  }

  /** One announce or scrape: a connection id (cached or fresh), then the request on the schedule. */
  private async request(
    target: UdpTarget,
    encode: (connectionId: bigint, tx: number) => Uint8Array,
    check: ReplyCheck,
    signal?: AbortSignal,
  ): Promise<UdpResponse> {
    for (;;) {
      const connection = await this.connection(target, signal);
      // BEP 15: a connection id must be asked for again once expired, also between retransmissions.
      const stale = () => this.connections.isStale(connection);
      const reply = await this.exchange(target, { encode: (tx) => encode(connection.id, tx), check, signal, stale });
      if (reply === "stale") continue;
      if (reply.action === "error") {
        // The id may be what it refused; the next request asks for a new one.
        this.connections.forget(keyOf(target));
        throw new UdpTrackerError("tracker-error", `tracker says: ${reply.message}`);
      }
      return reply;
    }
  }

  private connection(target: UdpTarget, signal?: AbortSignal): Promise<Connection> {
    return this.connections.obtain(keyOf(target), (abandoned) => this.connect(target, abandoned), signal);
  }

  private async connect(target: UdpTarget, signal: AbortSignal): Promise<bigint> {
    const check: ReplyCheck = (r) => (r.action === "connect" ? null : `a ${r.action} reply to a connect`);
    const reply = await this.exchange(target, { encode: encodeConnectRequest, check, signal });
    if (reply === "stale") throw new Error("unreachable: a connect is never stale");
    if (reply.action === "error") throw new UdpTrackerError("tracker-error", `tracker says: ${reply.message}`);
    if (reply.action !== "connect") throw new Error("unreachable: checked by the reply check");
    return reply.connectionId;
  }

  /**
   * Sends one request and waits, retransmitting the same datagram (same transaction id, so a late
   * reply to an earlier copy still counts) after 15 × 2^n s, n = 0, 1, ... up to the attempt cap.
   * Only connected requests can go stale, so a call without `stale` is a connect.
   */
  private async exchange(target: UdpTarget, request: Exchange): Promise<UdpResponse | "stale"> {
    if (this.closed) throw new UdpTrackerError("closed", "the UDP tracker client was closed");
    const lease = this.sockets.acquire(target);
    try {
      return await this.exchangeOn(await lease.socket, target, request);
    } finally {
      lease.release();
    }
  }

  private async exchangeOn(
    socket: { send(data: Uint8Array): boolean },
    target: UdpTarget,
    { encode, check, signal, stale }: Exchange,
  ): Promise<UdpResponse | "stale"> {
    const t = this.table.begin(target, check);
    try {
      const packet = encode(t.id);
      for (let n = 0; ; n++) {
        try {
          socket.send(packet);
        } catch (error) {
          // Refused in the kernel, so it would be refused again: no point in the schedule.
          throw new UdpTrackerError(
            "send-failed",
            `cannot send to ${target.address}:${target.port}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
        if (stale) this.requestsSent++;
        else this.connectsSent++;
        const outcome = await this.table.wait(t, retransmitTimeoutMs(this.baseMs, n), signal);
        if (outcome.kind === "reply") return outcome.reply;
        const where = `${target.family === 6 ? `[${target.address}]` : target.address}:${target.port}`;
        if (n + 1 >= this.maxAttempts) {
          throw t.problem
            ? new UdpTrackerError("bad-reply", `${where} sent no reply we could take (${t.problem})`)
            : new UdpTrackerError("timeout", `no reply from ${where} after ${this.maxAttempts} attempt(s)`);
        }
        if (stale?.()) return "stale";
      }
    } finally {
      this.table.end(t);
    }
  }
}
