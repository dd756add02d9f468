// The bench's own tracker (the project's, embedded store) on loopback: every client announces to it,
// and its scrape tells the bench when a seeder is ready (complete count up) and when a leecher has
// started (incomplete count up).
/// <reference path="../../shared/bencode-package.d.ts" />
import bencode from "bencode";
import path from "node:path";
import { freePort } from "../../test/support/ports.ts";
import { spawnService, type Service } from "../../test/support/processes.ts";

export interface SwarmCounts {
  complete: number;
  incomplete: number;
}

const ROOT = path.resolve(import.meta.dir, "../..");

export class BenchTracker {
  private constructor(
    private service: Service,
    private readonly port: number,
  ) {}

  private static spawn(port: number): Promise<Service> {
    return spawnService({
      name: "bench tracker",
      cmd: [process.execPath, path.join(ROOT, "edge/adapter/bun.ts")],
      env: { PORT: String(port), HOST: "127.0.0.1", TRACKER_UDP_PORT: "0", UPSTASH_REDIS_REST_URL: undefined, UPSTASH_REDIS_REST_TOKEN: undefined },
      ready: { port },
    });
  }

  static async start(): Promise<BenchTracker> {
    const port = freePort();
    return new BenchTracker(await BenchTracker.spawn(port), port);
  }

  /**
   * A fresh tracker on the same port, with no peers: what earlier transfers left behind (a client
   * killed without a `stopped`) must not reach the next one. rtorrent, handed a dead loopback peer,
   * never tries the live one (seen here: no byte in 120 s), so every transfer starts from this.
   */
  async restart(): Promise<void> {
    await this.service.stop();
    this.service = await BenchTracker.spawn(this.port);
  }

  get announceUrl(): string {
    return `http://127.0.0.1:${this.port}/announce`;
  }

  async counts(infoHashHex: string): Promise<SwarmCounts> {
    const hash = infoHashHex.replace(/../g, "%$&");
    const res = await fetch(`http://127.0.0.1:${this.port}/scrape?info_hash=${hash}`);
    const body = bencode.decode(new Uint8Array(await res.arrayBuffer())) as {
      files?: Map<unknown, unknown> | Record<string, { complete: number; incomplete: number }>;
    };
    const files = Object.values(body.files ?? {}) as { complete: number; incomplete: number }[];
    const entry = files[0];
    return { complete: entry?.complete ?? 0, incomplete: entry?.incomplete ?? 0 };
  }

  /** Polls the scrape every 10 ms until `ready` holds. */
  async waitFor(infoHashHex: string, ready: (c: SwarmCounts) => boolean, timeoutMs: number, what: string, peer?: Service): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (ready(await this.counts(infoHashHex))) return;
      if (peer?.hasExited) throw new Error(`${peer.name} exited before ${what}\n${peer.output()}`);
      if (Date.now() > deadline) throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s${peer ? `\n${peer.output()}` : ""}`);
      await Bun.sleep(10);
    }
  }

  async stop(): Promise<void> {
    await this.service.stop();
  }
}
