// The process's DHT (BEP 5), one for all torrents: a DhtNode on the listener's port number (UDP), a
// DhtAnnouncer that looks every public torrent up on start and every ~15 minutes, and the nodes peers tell
// us of in `port` messages (pinged first, a bounded number at a time). Torrents wait for the join
// (bootstrap) before their first lookup: a lookup on an empty table finds nobody, and the next one would
// be minutes away.
import { toBinaryString } from "../../shared/bytes.ts";
import { DEFAULT_ANNOUNCER_OPTIONS, DhtAnnouncer, type AnnouncerOptions, type DhtTorrentEntry } from "../dht/announcer.ts";
import { DhtError } from "../dht/errors.ts";
import { isLoopbackAddress } from "../net/loopback.ts";
import { DhtNode, type DhtStats } from "../dht/node.ts";
import { decodeSavedTable } from "../dht/table-file.ts";

export interface ClientDhtOptions {
  /** host:port routers, resolved only if no saved node answers (default: the well-known public routers). */
  bootstrap?: readonly string[];
  /** A table saved by `saveTable()` in an earlier run: its id is reused and its nodes asked first. */
  savedTable?: Uint8Array;
  /** Our address as the DHT saw it last run (externalIp()): the id is made valid for it under BEP 42. */
  externalIp?: string;
  /** Tests: never send off this machine, never look a router's name up. */
  loopbackOnly?: boolean;
  announcer?: AnnouncerOptions;
  /** The join (bootstrap) ended: how many nodes the table holds and where they came from. */
  onJoined?: (join: JoinResult) => void;
}

export interface JoinResult {
  source: "saved" | "routers" | "none";
  nodes: number;
}

/** Where the DHT is: joining (bootstrap running), joined (it knows nodes), or alone (nobody answered; a peer's port message may still bring one). */
export type DhtJoinState = { kind: "joining" } | { kind: "joined" } | { kind: "alone" };

/** What a torrent sees of the client's DHT. */
export interface TorrentDht {
  /** The node's UDP port: the handshake's DHT bit and our `port` message. */
  readonly port: number;
  add(infoHash: Uint8Array, entry: DhtTorrentEntry): void;
  remove(infoHash: Uint8Array): void;
  /** A peer's `port` message: its node is pinged, and enters the table if it answers. */
  nodeHeard(ip: string, port: number): void;
  /** Whether the DHT may still find peers: joining, or it knows nodes. */
  mayFindPeers(): boolean;
}

export interface ClientDhtStats extends DhtStats {
  state: DhtJoinState["kind"];
  port: number;
  torrents: number;
  lookups: number;
  peersFound: number;
}

/** Pings of port-message nodes in flight at most; more are dropped (the DHT does not need every peer's node). */
const MAX_PINGS = 8;
/** Port-message addresses remembered so one is pinged once, however many connections repeat it. */
const MAX_RECENT = 512;
/** While the table is empty, how often it is looked at for a node that came by itself. */
const ALONE_CHECK_MS = 2_000;

export class ClientDht implements TorrentDht {
  private state: DhtJoinState = { kind: "joining" };
  private readonly announcer: DhtAnnouncer;
  /** Torrents added while joining: handed to the announcer when the join ends. */
  private readonly waiting = new Map<string, { infoHash: Uint8Array; entry: DhtTorrentEntry }>();
  private readonly recent = new Set<string>();
  private pings = 0;
  private lookups = 0;
  private peersFound = 0;
  private closed = false;
  private aloneTimer: ReturnType<typeof setInterval> | undefined;
  /** Resolves once the join (bootstrap) ended. */
  readonly joined: Promise<JoinResult>;

  private constructor(
    readonly node: DhtNode,
    private readonly options: ClientDhtOptions,
    private readonly joinEnded: (join: JoinResult) => void,
  ) {
    // Counted here for all torrents, not by wrapping each one's entry: thousands of dormant torrents share one entry.
    this.announcer = new DhtAnnouncer(node, options.announcer ?? DEFAULT_ANNOUNCER_OPTIONS, ({ peers }) => {
      this.lookups++;
      this.peersFound += peers;
    });
    this.joined = this.join();
  }

  /**
   * Opens the node on `port` (the listener's number; any free port if UDP has it taken) on `bind`'s
   * address, or every interface, and starts joining. `joinEnded` hears of the join's end (the client
   * re-checks torrents that rely on the DHT for peers). Throws DhtError when no UDP socket opens.
   */
  static async start(port: number, bind: string | null, options: ClientDhtOptions, joinEnded: (join: JoinResult) => void): Promise<ClientDht> {
    const hosts = bind === null ? undefined : bind.includes(":") ? { 4: null, 6: bind } : { 4: bind, 6: null };
    const nodeOptions = {
      hosts,
      bootstrap: options.bootstrap,
      savedTable: readable(options.savedTable),
      externalIp: options.externalIp,
      loopbackOnly: options.loopbackOnly,
    };
    let node: DhtNode;
    try {
      node = await DhtNode.start({ port, ...nodeOptions });
    } catch {
      try {
        node = await DhtNode.start({ port: 0, ...nodeOptions });
      } catch (error) {
        if (error instanceof DhtError) throw error;
        throw new DhtError("no-socket", `no UDP socket for the DHT: ${(error as Error).message}`);
      }
    }
    return new ClientDht(node, options, joinEnded);
  }

  get port(): number {
    return this.node.port(4) ?? this.node.port(6)!;
  }

  get joinState(): DhtJoinState {
    return this.state;
  }

  private async join(): Promise<JoinResult> {
    let result: JoinResult;
    try {
      result = await this.node.bootstrap();
    } catch (error) {
      // Only a loopback-only node (tests) throws here, on a destination off the machine: it joins nobody.
      if (!(error instanceof DhtError)) throw error;
      result = { source: "none", nodes: 0 };
    }
    if (this.closed) return result;
    // A node heard from a peer's port message meanwhile may have joined us already.
    this.state = result.nodes > 0 ? { kind: "joined" } : { kind: "alone" };
    if (this.state.kind === "alone") {
      // Nodes may still come: a peer's port message, a node that queries us. The torrents' next lookups
      // then need not wait their full interval.
      this.aloneTimer = setInterval(() => this.checkAlone(), ALONE_CHECK_MS);
      this.aloneTimer.unref?.();
    }
    for (const { infoHash, entry } of this.waiting.values()) this.announcer.add(infoHash, entry);
    this.waiting.clear();
    this.options.onJoined?.(result);
    this.joinEnded(result);
    return result;
  }

  add(infoHash: Uint8Array, entry: DhtTorrentEntry): void {
    if (this.closed) return;
    if (this.state.kind === "joining") this.waiting.set(toBinaryString(infoHash), { infoHash, entry });
    else this.announcer.add(infoHash, entry);
  }

  remove(infoHash: Uint8Array): void {
    this.waiting.delete(toBinaryString(infoHash));
    this.announcer.remove(infoHash);
  }

  nodeHeard(ip: string, port: number): void {
    if (this.closed || port === 0 || this.pings >= MAX_PINGS) return;
    if (ip.startsWith("::ffff:") && ip.includes(".")) ip = ip.slice(7);
    if (this.options.loopbackOnly && !isLoopbackAddress(ip)) return;
    const key = `${ip}|${port}`;
    if (this.recent.has(key)) return;
    this.recent.add(key);
    if (this.recent.size > MAX_RECENT) this.recent.delete(this.recent.values().next().value!);
    this.pings++;
    void this.node
      .addNode(ip, port)
      .then((answered) => {
        if (answered) this.checkAlone();
      })
      .catch(() => {}) // only a closing node rejects
      .finally(() => this.pings--);
  }

  private checkAlone(): void {
    if (this.state.kind !== "alone" || this.tableSize() === 0) return;
    this.state = { kind: "joined" };
    clearInterval(this.aloneTimer);
    this.announcer.lookupAllNow();
  }

  private tableSize(): number {
    const { nodes } = this.node.stats();
    return nodes[4] + nodes[6];
  }

  mayFindPeers(): boolean {
    return this.state.kind === "joining" || this.tableSize() > 0;
  }

  /** The routing table as bytes, for the daemon's state (DhtNode.saveTable). */
  saveTable(): Uint8Array {
    return this.node.saveTable();
  }

  /** Our address as a majority of answering nodes see it (BEP 42), once known: kept with the table. */
  externalIp(): string | undefined {
    return this.node.externalIp();
  }

  stats(): ClientDhtStats {
    return {
      ...this.node.stats(),
      state: this.state.kind,
      port: this.port,
      torrents: this.announcer.size + this.waiting.size,
      lookups: this.lookups,
      peersFound: this.peersFound,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.aloneTimer);
    this.announcer.close();
    this.waiting.clear();
    this.node.close();
  }
}

/** A saved table that cannot be read is left out: the node bootstraps from the routers instead. */
function readable(table: Uint8Array | undefined): Uint8Array | undefined {
  if (!table) return undefined;
  try {
    decodeSavedTable(table);
    return table;
  } catch (error) {
    if (error instanceof DhtError) return undefined;
    throw error;
  }
}
