// A mainline DHT node (BEP 5, with BEP 32 for IPv6, BEP 42 node-id checks and BEP 43 read-only peers):
// one per process, shared by every torrent. It answers queries on a UDP socket per address family and
// runs lookups for the torrents (getPeers, announce). Memory is bounded by its parts' caps: routing
// tables (160 buckets of K + K replacements), the peer store, the outstanding query table and the
// per-address rate limiter.
import type { PeerAddress } from "../../shared/compact.ts";
import { decodeMessage, encodeMessage, KrpcError, type KrpcMessage, type KrpcQuery, type NodeInfo } from "../../shared/dht/index.ts";
import { DEFAULT_BOOTSTRAP, resolveBootstrap } from "./bootstrap.ts";
import { DhtError } from "./errors.ts";
import { DEFAULT_LOOKUP_LIMITS, type LookupLimits } from "./lookup.ts";
import { generateIdForAddress, idMatchesAddress, isGlobalAddress, randomId, randomIdInBucket } from "./node-id.ts";
import { DEFAULT_STORE_LIMITS, PeerStore, type PeerStoreLimits } from "./peer-store.ts";
import { Querier } from "./querier.ts";
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimit } from "./rate-limit.ts";
import { answer, type ResponderContext } from "./responder.ts";
import { K, QUESTIONABLE_AFTER_MS, RoutingTable } from "./routing-table.ts";
import { decodeSavedTable, encodeSavedTable } from "./table-file.ts";
import { TokenManager } from "./tokens.ts";
import { openTransports, type DhtTransport, type Family } from "./transport.ts";

export interface DhtNodeOptions {
  /** UDP port for both families, or one per family (0: any free port). */
  port: number | { 4: number; 6: number };
  /** Listen address per family, each its own socket; null leaves a family out. Default: one dual-stack socket on :: for both. */
  hosts?: { 4?: string | null; 6?: string | null };
  /** host:port routers asked when no saved node answers; default the well-known public routers. */
  bootstrap?: readonly string[];
  /** A routing table saved by `saveTable()`: its id is reused and its nodes asked first. */
  savedTable?: Uint8Array;
  /** Our external address when known (e.g. `externalIp()` of the last run): the id is made valid for it under BEP 42. */
  externalIp?: string;
  /** Tests: refuse to send anywhere but loopback, and look no bootstrap name up (see resolveBootstrap). */
  loopbackOnly?: boolean;
  /** BEP 42: keep nodes with a global address whose id does not match it out of the table (default true). */
  enforceNodeIds?: boolean;
  rateLimit?: RateLimit;
  /**
   * Bytes of answers per second, all askers together (default 64 KiB/s, with a one-second burst): many
   * spoofed sources, each within its own rate limit, still cannot make us flood one victim or the link.
   */
  replyBytesPerSecond?: number;
  storeLimits?: PeerStoreLimits;
  lookupLimits?: LookupLimits;
  maxOutstanding?: number;
  queryTimeoutMs?: number;
  /** How often questionable nodes are pinged, stale buckets refreshed and stored peers expired (default 1 min). */
  maintenanceMs?: number;
  /** The clock of tables, tokens, store and rate limits (tests; default Date.now). */
  now?: () => number;
  /** Own transports instead of UDP sockets (the fuzz test drives packets in directly). */
  transports?: DhtTransport[];
}

export interface DhtStats {
  nodes: Record<Family, number>;
  /** Buckets of each family's routing table (grows as our own bucket splits). */
  buckets: Record<Family, number>;
  /** Nodes of the tables not heard from in 15 minutes (pinged by the maintenance timer). */
  questionable: number;
  /** Nodes held in all, replacement caches included. */
  held: number;
  storedPeers: number;
  storedTorrents: number;
  outstanding: number;
  rateTracked: number;
  dropped: { malformed: number; unsolicited: number; rateLimited: number; overBudget: number };
}

const VERSION = new Uint8Array([0x42, 0x57, 0, 1]); // "BW" 0.1
const MAINTENANCE_MS = 60_000;
/** A stranger that queried us is pinged at most once in this long, remembered for this many addresses. */
const RECENT_PING_MS = 10 * 60_000;
const MAX_RECENT_PINGS = 1024;

export class DhtNode {
  private readonly tables: Partial<Record<Family, RoutingTable>> = {};
  private readonly tokens: TokenManager;
  private readonly store: PeerStore;
  private readonly limiter: RateLimiter;
  private readonly querier: Querier;
  private readonly responder: ResponderContext;
  private readonly dropped = { malformed: 0, unsolicited: 0, rateLimited: 0, overBudget: 0 };
  private readonly replyBudget: RateLimiter;
  /** Bootstrap routers (ip|port): they only hand out nodes and store no peers, so, as libtorrent does,
   *  they are kept out of the routing tables unless they are all the DHT has (see bootstrap()). */
  private readonly routers = new Set<string>();
  /** ip|port -> when we last pinged it because it queried us (Map order: oldest first). */
  private readonly recentPings = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  private constructor(
    readonly id: Uint8Array,
    private readonly transports: Partial<Record<Family, DhtTransport>>,
    private readonly savedNodes: NodeInfo[],
    private readonly options: DhtNodeOptions,
  ) {
    const now = options.now ?? Date.now;
    for (const family of [4, 6] as const) if (transports[family]) this.tables[family] = new RoutingTable(id, now);
    this.tokens = new TokenManager(now);
    this.store = new PeerStore(options.storeLimits ?? DEFAULT_STORE_LIMITS, now);
    this.limiter = new RateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT, now);
    const budget = options.replyBytesPerSecond ?? 64 * 1024;
    this.replyBudget = new RateLimiter({ perSecond: budget, burst: budget, maxAddresses: 1 }, now);
    const limits = options.lookupLimits ?? DEFAULT_LOOKUP_LIMITS;
    this.querier = new Querier(
      id,
      transports,
      this.tables,
      (n) => this.acceptableId(n.id, n.ip) && !this.routers.has(`${n.ip}|${n.port}`),
      limits,
      options.maxOutstanding ?? 256,
      options.queryTimeoutMs ?? 2000,
    );
    this.responder = { ownId: id, tables: this.tables, tokens: this.tokens, store: this.store, version: VERSION };
  }

  static async start(options: DhtNodeOptions): Promise<DhtNode> {
    const saved = options.savedTable ? decodeSavedTable(options.savedTable) : undefined;
    // A saved id is kept unless our address is known and the id is not valid for it under BEP 42
    // (the address changed since): then nodes enforcing BEP 42 would not route to us.
    const external = options.externalIp;
    const savedIdFits = saved && (!external || !isGlobalAddress(external) || idMatchesAddress(saved.id, external));
    const id = savedIdFits ? saved.id : external ? generateIdForAddress(external) : randomId();
    const transports: Partial<Record<Family, DhtTransport>> = {};
    let node: DhtNode | undefined;
    const deliver = (family: Family) => (bytes: Uint8Array, ip: string, port: number) => node?.handlePacket(bytes, ip, port, family);
    if (options.transports) {
      for (const t of options.transports) transports[t.family] = t;
    } else {
      for (const t of await openTransports(options.port, options.hosts, options.loopbackOnly ?? false, deliver)) transports[t.family] = t;
    }
    if (!transports[4] && !transports[6]) throw new DhtError("no-socket", "no UDP socket could be opened for the DHT");
    node = new DhtNode(id, transports, saved?.nodes ?? [], options);
    node.timer = setInterval(() => node.maintain(), options.maintenanceMs ?? MAINTENANCE_MS);
    node.timer.unref?.();
    return node;
  }

  /** The UDP port of a family's socket (what the extension handshake's `p`/`port` message should carry). */
  port(family: Family = 4): number | undefined {
    return this.transports[family]?.port;
  }

  /**
   * Fills the routing table: asks the saved nodes first; only when none of them answers does it ask
   * the bootstrap routers. Resolves with where the table came from and how many nodes it holds.
   */
  async bootstrap(): Promise<{ source: "saved" | "routers" | "none"; nodes: number }> {
    const size = () => (this.tables[4]?.size ?? 0) + (this.tables[6]?.size ?? 0);
    if (this.savedNodes.length > 0) {
      await this.querier.lookupAll(this.id, "find_node", this.savedNodes);
      if (size() > 0) return { source: "saved", nodes: size() };
    }
    const routers = await resolveBootstrap(this.options.bootstrap ?? DEFAULT_BOOTSTRAP, { loopbackOnly: this.options.loopbackOnly });
    const found: NodeInfo[] = [];
    const answered: NodeInfo[] = [];
    await Promise.all(
      routers.map(async (r) => {
        const family: Family = r.ip.includes(":") ? 6 : 4;
        this.routers.add(`${r.ip}|${r.port}`);
        const reply = await this.querier.query(family, r, { method: "find_node", target: this.id, want: [family === 4 ? "n4" : "n6"] });
        if (!reply) return;
        found.push(...(reply.nodes ?? []), ...(reply.nodes6 ?? []));
        answered.push({ id: reply.id, ip: r.ip, port: r.port });
      }),
    );
    await this.querier.lookupAll(this.id, "find_node", found);
    for (const node of size() === 0 ? answered : []) {
      if (this.acceptableId(node.id, node.ip)) this.tables[node.ip.includes(":") ? 6 : 4]?.heard(node, true);
    }
    return { source: size() > 0 ? "routers" : "none", nodes: size() };
  }

  /** Peers of a torrent, from every family's lookup. */
  async getPeers(infoHash: Uint8Array): Promise<PeerAddress[]> {
    const results = await this.querier.lookupAll(infoHash, "get_peers");
    return dedupe(results.flatMap((r) => r.values));
  }

  /**
   * Finds a torrent's peers and announces us on `port` (or, with "implied", on the DHT socket's port) to
   * the closest nodes that gave a token. Resolves with the peers found and how many nodes took it.
   */
  async announce(infoHash: Uint8Array, port: number | "implied"): Promise<{ peers: PeerAddress[]; announcedTo: number }> {
    const results = await this.querier.lookupAll(infoHash, "get_peers");
    let announcedTo = 0;
    await Promise.all(
      results.flatMap((r) =>
        r.closest.map(async ({ node, token }) => {
          if (!token) return;
          const family: Family = node.ip.includes(":") ? 6 : 4;
          const query = port === "implied" ? { port: 0, impliedPort: true } : { port, impliedPort: false };
          if (await this.querier.query(family, node, { method: "announce_peer", infoHash, token, ...query })) announcedTo++;
        }),
      ),
    );
    return { peers: dedupe(results.flatMap((r) => r.values)), announcedTo };
  }

  /**
   * A node heard of outside the DHT (a peer's BEP 5 `port` message, a --dht-bootstrap added later):
   * pinged, and added to the table if it answers. Resolves with whether it did.
   */
  async addNode(ip: string, port: number): Promise<boolean> {
    return (await this.ping(ip, port)) !== null;
  }

  /** Pings one address; resolves with the node's id, or null when it does not answer. */
  async ping(ip: string, port: number): Promise<Uint8Array | null> {
    const reply = await this.querier.query(ip.includes(":") ? 6 : 4, { ip, port }, { method: "ping" });
    return reply?.id ?? null;
  }

  /** The routing table as bytes for the daemon's state (see table-file.ts); load it with `savedTable`. */
  saveTable(): Uint8Array {
    const nodes = [4, 6].flatMap((f) => this.tables[f as Family]?.closest(this.id, 200) ?? []).map(({ id, ip, port }) => ({ id, ip, port }));
    return encodeSavedTable({ id: this.id, nodes });
  }

  /**
   * Our address as a majority of the nodes answering us see it (BEP 42), once known. The daemon keeps it
   * with the saved table and passes it back as `externalIp`, so the next start has a matching id.
   */
  externalIp(): string | undefined {
    return this.querier.ipVotes.address;
  }

  /** Nodes in a family's routing table (tests and status). */
  tableNodes(family: Family): NodeInfo[] {
    return (this.tables[family]?.all() ?? []).map(({ id, ip, port }) => ({ id, ip, port }));
  }

  stats(): DhtStats {
    return {
      nodes: { 4: this.tables[4]?.size ?? 0, 6: this.tables[6]?.size ?? 0 },
      buckets: { 4: this.tables[4]?.bucketCount ?? 0, 6: this.tables[6]?.bucketCount ?? 0 },
      questionable: (this.tables[4]?.questionable(Infinity).length ?? 0) + (this.tables[6]?.questionable(Infinity).length ?? 0),
      held: (this.tables[4]?.held() ?? 0) + (this.tables[6]?.held() ?? 0),
      storedPeers: this.store.peerCount,
      storedTorrents: this.store.torrentCount,
      outstanding: this.querier.queries.size,
      rateTracked: this.limiter.tracked,
      dropped: { ...this.dropped },
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.querier.close();
    for (const t of Object.values(this.transports)) t.close();
  }

  /** One datagram from `ip`:`port` on a family's socket. Never throws for what a packet holds. */
  handlePacket(bytes: Uint8Array, ip: string, port: number, family: Family): void {
    if (this.closed) return;
    let message: KrpcMessage;
    try {
      message = decodeMessage(bytes);
    } catch (error) {
      if (!(error instanceof KrpcError)) throw error;
      this.dropped.malformed++;
      // A query we could half read gets a protocol error, within the same rate limit as answers.
      if (error.wasQuery && error.transactionId && this.limiter.allow(ip)) {
        this.send(family, { type: "error", transactionId: error.transactionId, code: 203, message: "Protocol Error" }, ip, port);
      }
      return;
    }
    if (message.type !== "query") {
      if (!this.querier.queries.settle(message, ip, port)) this.dropped.unsolicited++;
      return;
    }
    if (!this.limiter.allow(ip)) {
      this.dropped.rateLimited++;
      return;
    }
    this.send(family, answer(this.responder, message, { ip, port }, family), ip, port);
    this.noteQuerier(message, ip, port, family);
  }

  /** A node that queried us: refresh it if known; if not, ping it, and its answer will add it. */
  private noteQuerier(query: KrpcQuery, ip: string, port: number, family: Family): void {
    const table = this.tables[family];
    const key = `${ip}|${port}`;
    // Never ping back our own id (ourselves: our ping would come back as a query and be pinged again,
    // forever) or a router (never admitted, so each of its queries would bring another ping).
    if (!table || query.readOnly || sameBytes(query.id, this.id) || this.routers.has(key) || !this.acceptableId(query.id, ip)) return;
    if (table.heard({ id: query.id, ip, port }, false) !== "refused") return;
    // Once per address per RECENT_PING_MS: one that answered and was still not admitted is not pinged
    // again on each query it sends.
    const now = (this.options.now ?? Date.now)();
    const last = this.recentPings.get(key);
    if (last !== undefined && now - last < RECENT_PING_MS) return;
    this.recentPings.delete(key);
    this.recentPings.set(key, now);
    if (this.recentPings.size > MAX_RECENT_PINGS) this.recentPings.delete(this.recentPings.keys().next().value!);
    const { queries } = this.querier;
    if (queries.size < queries.max / 2) void this.querier.query(family, { ip, port }, { method: "ping" });
  }

  private acceptableId(id: Uint8Array, ip: string): boolean {
    return this.options.enforceNodeIds === false || !isGlobalAddress(ip) || idMatchesAddress(id, ip);
  }

  /** Sends an answer (or error) to a query, within the global reply budget. */
  private send(family: Family, message: KrpcMessage, ip: string, port: number): void {
    const transport = this.transports[family];
    if (!transport) return;
    const bytes = encodeMessage(message);
    if (!this.replyBudget.allow("all", bytes.length)) {
      this.dropped.overBudget++;
      return;
    }
    transport.send(bytes, ip, port);
  }

  /** Every minute: expire stored peers, ping questionable nodes, refresh one stale bucket per family. */
  private maintain(): void {
    this.store.expire();
    for (const family of this.querier.families()) {
      const table = this.tables[family]!;
      for (const node of table.questionable(K)) void this.querier.query(family, node, { method: "ping" });
      const stale = table.staleBuckets(QUESTIONABLE_AFTER_MS)[0];
      if (stale !== undefined) {
        table.touchBucket(stale);
        void this.querier.lookup(family, randomIdInBucket(this.id, stale), "find_node", []).catch(() => {});
      }
    }
  }
}

function dedupe(peers: PeerAddress[]): PeerAddress[] {
  const seen = new Map<string, PeerAddress>();
  for (const p of peers) seen.set(`${p.ip}|${p.port}`, p);
  return [...seen.values()];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
