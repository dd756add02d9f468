// The daemon's DHT: the client's node with its routing table kept in the state store, so a restarted
// daemon asks the nodes it knew first and needs no bootstrap router when they answer. The table (and our
// address as the DHT saw it, BEP 42) is saved once joined, every 10 minutes, and when the daemon closes.
import type { Client } from "../client/client.ts";
import type { JoinResult } from "../client/client-dht.ts";
import { DhtError } from "../dht/errors.ts";
import type { DhtStatus } from "./control.ts";
import { StateError } from "./state-errors.ts";
import type { StateStore } from "./state-store.ts";

export const DHT_TABLE_KEY = "dht.table";
export const DHT_EXTERNAL_IP_KEY = "dht.external-ip";
const SAVE_EVERY_MS = 10 * 60_000;

export interface DaemonDhtOptions {
  /** host:port routers (default: the well-known public ones). */
  bootstrap?: string[];
  /** Tests: never a packet or a DNS query off this machine. */
  loopbackOnly?: boolean;
}

export class DaemonDht {
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  private constructor(
    private readonly client: Client,
    private readonly store: StateStore,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Starts the client's DHT from the stored table. A node that cannot open a UDP socket is logged and the
   * daemon runs without it (null).
   */
  static async start(client: Client, store: StateStore, options: DaemonDhtOptions, log: (line: string) => void): Promise<DaemonDht | null> {
    const dht = new DaemonDht(client, store, log);
    const externalIp = store.getBlob(DHT_EXTERNAL_IP_KEY);
    try {
      await client.enableDht({
        bootstrap: options.bootstrap,
        loopbackOnly: options.loopbackOnly,
        savedTable: store.getBlob(DHT_TABLE_KEY) ?? undefined,
        externalIp: externalIp ? new TextDecoder().decode(externalIp) : undefined,
        onJoined: (join) => dht.joined(join),
      });
    } catch (error) {
      if (!(error instanceof DhtError)) throw error;
      log(`running without the DHT: ${error.message}`);
      return null;
    }
    dht.timer = setInterval(() => dht.save(), SAVE_EVERY_MS);
    dht.timer.unref?.();
    return dht;
  }

  private joined(join: JoinResult): void {
    this.log(join.nodes > 0 ? `DHT: ${join.nodes} nodes from ${join.source === "saved" ? "the saved table" : "the routers"}` : "DHT: no node answered yet");
    if (join.nodes > 0) this.save();
  }

  /** Writes the table (and our external address, once known) into the state; a table with no node is not worth keeping. */
  save(): void {
    const node = this.client.dht;
    if (this.closed || !node || node.stats().nodes[4] + node.stats().nodes[6] === 0) return;
    try {
      this.store.setBlob(DHT_TABLE_KEY, node.saveTable());
      const ip = node.externalIp();
      if (ip) this.store.setBlob(DHT_EXTERNAL_IP_KEY, new TextEncoder().encode(ip));
    } catch (error) {
      if (!(error instanceof StateError)) throw error;
      this.log(`saving the DHT's routing table failed: ${error.message}`);
    }
  }

  status(): DhtStatus | null {
    const stats = this.client.dht?.stats();
    if (!stats) return null;
    return {
      state: stats.state,
      port: stats.port,
      nodes: { ipv4: stats.nodes[4], ipv6: stats.nodes[6] },
      buckets: { ipv4: stats.buckets[4], ipv6: stats.buckets[6] },
      lookups: stats.lookups,
      peersFound: stats.peersFound,
      torrents: stats.torrents,
      storedPeers: stats.storedPeers,
      storedTorrents: stats.storedTorrents,
    };
  }

  /** Saves the table one last time; before the client stops (which closes the node). */
  close(): void {
    this.save();
    this.closed = true;
    clearInterval(this.timer);
  }
}
