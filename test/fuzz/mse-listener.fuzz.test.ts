// Hostile bytes on the real listener of a Client (in process, seeding a torrent, --encryption prefer): random
// first bytes, floods, and MSE handshakes driven by a real initiator but cut at every stage, each ended by
// the peer leaving or by silence. Every connection ends with a typed reason the client reports
// (onIncomingDropped), a silent one is closed by the client itself (its deadlines: 5 s to be told apart,
// the MSE handshake's, 5 s for the BitTorrent handshake), nothing throws, no connection is left pending,
// and the heap after a collection stays within a bound however many bytes were thrown at it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { Socket } from "bun";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { MseInitiator } from "../../shared/mse/initiator.ts";
import { Client } from "../../peer/client/client.ts";
import { describeClose, type CloseReason } from "../../peer/net/close-reason.ts";
import { TorrentStorage, verifyExisting } from "../../peer/storage/index.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { makeTorrent } from "../peer/btpeer-harness.ts";
import { heapAfterGc, Rng } from "./fuzz-kit.ts";

const MSE_DEADLINE_MS = 1_500;

let dir = "";
let meta: Metainfo;
let client: Client;
/** Drop reasons by the dialling socket's local port (the client sees it as the peer's port). */
const dropped = new Map<number, CloseReason>();

beforeAll(async () => {
  dir = makeTempDir("btpeer-mse-listener-");
  const source = path.join(dir, "src", "data.bin");
  makeRandomFile(source, 200_000, 5);
  meta = parseMetainfo(new Uint8Array(fs.readFileSync(await makeTorrent(source, path.join(dir, "data.torrent"), { pieceLength: 32768 }))));
  client = new Client({
    port: 0,
    bind: "127.0.0.1",
    mseLimits: { handshakeDeadlineMs: MSE_DEADLINE_MS },
    onIncomingDropped: (address, reason) => dropped.set(address.port, reason),
  });
  client.start();
  const storage = TorrentStorage.open(meta, path.dirname(source));
  const have = await verifyExisting(meta, path.dirname(source));
  client.addTorrent({ meta, storage, have, dir: path.dirname(source), poolBytes: 1 << 20, maxPeers: 200, peers: [], seed: true, onEvent: () => {} }).start();
});

afterAll(async () => {
  await client?.stop();
  removeDir(dir);
});

type Ending = "leave" | "silence";

interface Probe {
  label: string;
  ending: Ending;
  /** Resolves with the local port once our socket is closed (by us after leaving, or by the client). */
  closed: Promise<number>;
}

/**
 * Dials the client; `script` sends what it likes (given each chunk the client sends back), then the probe
 * leaves (ends its socket) or falls silent and waits for the client to close it.
 */
function probe(label: string, ending: Ending, script: (socket: Socket<undefined>, received: Uint8Array | null) => "done" | "more"): Probe {
  let resolveClosed!: (port: number) => void;
  const closed = new Promise<number>((r) => (resolveClosed = r));
  let port = 0;
  let finished = false;
  const step = (socket: Socket<undefined>, received: Uint8Array | null) => {
    if (finished) return;
    if (script(socket, received) === "more") return;
    finished = true;
    if (ending === "leave") socket.end();
  };
  void Bun.connect({
    hostname: "127.0.0.1",
    port: client.port,
    socket: {
      binaryType: "uint8array",
      open(socket) {
        port = socket.localPort;
        step(socket, null);
      },
      data: (socket, chunk) => step(socket, chunk),
      close: () => resolveClosed(port),
      error: () => resolveClosed(port),
    },
  });
  return { label, ending, closed };
}

/** Sends `bytes` at once. */
const send = (bytes: Uint8Array) => (socket: Socket<undefined>, received: Uint8Array | null) => {
  if (received === null) socket.write(bytes);
  return "done" as const;
};

/**
 * A real MSE initiator for our torrent (or `infoHash`), cut `cut` bytes into its third step (after the
 * client's DH value came back), or within its first step when `cut` is negative (-n: only n bytes of Ya).
 */
function cutHandshake(cut: number, infoHash: Uint8Array = meta.infoHash) {
  // Seeded, so every run sends the same bytes (Ya's first byte is not 19: it never looks like plain BitTorrent).
  const rng = new Rng(4242 + cut);
  const initiator = new MseInitiator({ infoHash, provide: ["rc4", "plaintext"], random: (n) => rng.bytes(n) });
  const ya = initiator.start();
  return (socket: Socket<undefined>, received: Uint8Array | null) => {
    if (received === null) {
      if (cut < 0) {
        socket.write(ya.subarray(0, -cut));
        return "done" as const;
      }
      socket.write(ya);
      return "more" as const;
    }
    const step = initiator.feed(received);
    if (!step.send) return "more" as const;
    socket.write(step.send.subarray(0, cut));
    return "done" as const;
  };
}

/** Step 3 is 20 (req1) + 20 (req2^req3) + 8 (VC) + 4 (crypto_provide) + 2 (len PadC) + PadC + 2 (len IA); cuts relative to that. */
const STEP3_CUTS = [1, 19, 20, 39, 40, 47, 48, 53, 54, 60, 100000];

const KNOWN: ReadonlySet<string> = new Set(["mse", "timeout", "closed-by-peer", "connection-lost", "socket-error", "protocol", "unknown-torrent"]);

async function settle(probes: Probe[]): Promise<Map<string, CloseReason>> {
  const out = new Map<string, CloseReason>();
  const ports = await Promise.all(probes.map((p) => p.closed));
  // The client reports a drop when it sees the close: give it until every probe has one (bounded).
  for (let i = 0; i < 200 && ports.some((port) => !dropped.has(port)); i++) await Bun.sleep(50);
  probes.forEach((p, i) => {
    const reason = dropped.get(ports[i]!);
    if (!reason) throw new Error(`${p.label} (${p.ending}): no drop reason reported`);
    expect(KNOWN.has(reason.code)).toBe(true);
    expect(describeClose(reason).length).toBeGreaterThan(0);
    out.set(`${p.label} ${p.ending}`, reason);
  });
  return out;
}

describe("the Client's listener under hostile bytes", () => {
  test("an MSE handshake cut at every stage ends with a clear reason: 'closed' when the peer leaves, the deadline when it falls silent (the client closes the socket)", async () => {
    const heapBefore = heapAfterGc();
    const probes: Probe[] = [];
    for (const ending of ["leave", "silence"] as const) {
      probes.push(probe("nothing sent", ending, () => "done"));
      for (const n of [1, 19, 50, 95]) probes.push(probe(`Ya cut at ${n}`, ending, cutHandshake(-n)));
      for (const n of STEP3_CUTS) probes.push(probe(`step 3 cut at ${n}`, ending, cutHandshake(n)));
      probes.push(probe("an info hash we do not serve", ending, cutHandshake(100000, new Uint8Array(20).fill(9))));
    }
    const reasons = await settle(probes);
    const code = (key: string) => {
      const r = reasons.get(key)!;
      return r.code === "mse" ? `mse:${r.mse}` : r.code === "timeout" ? `timeout:${r.which}` : r.code;
    };
    expect(code("nothing sent leave")).toBe("closed-by-peer");
    expect(code("nothing sent silence")).toBe("timeout:handshake"); // never told apart
    for (const n of [1, 19, 50, 95]) {
      expect(code(`Ya cut at ${n} leave`)).toBe("mse:closed");
      expect(code(`Ya cut at ${n} silence`)).toBe("mse:timeout");
    }
    for (const n of STEP3_CUTS.slice(0, -1)) {
      expect(code(`step 3 cut at ${n} leave`)).toBe("mse:closed");
      expect(code(`step 3 cut at ${n} silence`)).toBe("mse:timeout");
    }
    // The whole handshake, and then no BitTorrent handshake: the connection's own deadline.
    expect(code("step 3 cut at 100000 leave")).toBe("closed-by-peer");
    expect(code("step 3 cut at 100000 silence")).toBe("timeout:handshake");
    expect(code("an info hash we do not serve leave")).toBe("mse:unknown-info-hash");
    expect(code("an info hash we do not serve silence")).toBe("mse:unknown-info-hash");
    expect(client.incomingHandshakes).toBe(0);
    expect(heapAfterGc() - heapBefore).toBeLessThan(32 * 1024 * 1024);
  }, 60_000);

  test("random first bytes and floods (up to 4 MiB) end with a typed reason, are closed by the client when silent, and leave nothing pending", async () => {
    const heapBefore = heapAfterGc();
    const rng = new Rng(1313);
    const probes: Probe[] = [];
    for (let i = 0; i < 60; i++) {
      const length = rng.pick([1, 2, 19, 20, 21, 68, 95, 96, 97, 300, 628, 629, 1500, 20_000, 4 << 20]);
      const bytes = rng.bytes(length);
      // Some start like a plain BitTorrent handshake, then go astray.
      if (rng.chance(0.25)) bytes.set(Uint8Array.from("\x13BitTorrent protocol", (c) => c.charCodeAt(0)).subarray(0, Math.min(20, length)));
      probes.push(probe(`random ${i} (${length} bytes)`, rng.chance(0.5) ? "leave" : "silence", send(bytes)));
    }
    const reasons = await settle(probes);
    // A flood of noise is refused once past what a handshake can hold, not read to its end.
    const floods = [...reasons].filter(([key]) => key.includes(`(${4 << 20} bytes)`));
    expect(floods.length).toBeGreaterThan(0);
    for (const [, reason] of floods) expect(["mse", "protocol", "unknown-torrent", "connection-lost", "socket-error", "closed-by-peer"]).toContain(reason.code);
    expect(client.incomingHandshakes).toBe(0);
    expect(heapAfterGc() - heapBefore).toBeLessThan(32 * 1024 * 1024);
  }, 60_000);
});
