// The fast extension (BEP 6) with scripted peers built on the shared codec, against real btpeer processes.
// A seeder: a peer without the fast bit never gets a fast message, and sending one costs it the connection;
// a fast peer gets have-all, BEP 6's allowed fast set (computed here from its address), the pieces of that
// set while choked and a reject for anything else, or for a request it cancels while still queued. A
// leecher: rejects for blocks it never asked for and an allowed fast index past the last piece cost the
// sender its connection; a peer that rejects every request frees them for the honest seeder and the
// download completes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { allowedFastSet, encodeMessage } from "../../shared/wire/codec.ts";
import type { WireMessage } from "../../shared/wire/types.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { type Btpeer, isEvent, makeTorrent, startBtpeer } from "./btpeer-harness.ts";
import { connectScripted, listenScripted, type ListeningPeer, type ScriptedStats, type Wire } from "./hostile-peers.ts";

const PIECE = 32 * 1024;
const HOSTILE_HOST = "127.0.0.3";
let dir = "";
let torrent = "";
let meta: Metainfo;
let seeder: Btpeer;
const listeners: ListeningPeer[] = [];

beforeAll(async () => {
  dir = makeTempDir("btpeer-hostile-fast-");
  makeRandomFile(path.join(dir, "src", "data.bin"), 2 * 1024 * 1024 + 77, 71);
  torrent = await makeTorrent(path.join(dir, "src", "data.bin"), path.join(dir, "data.torrent"), { pieceLength: PIECE });
  meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
  seeder = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "src")], { name: "seeder", env: { BTPEER_DEBUG: "1" } });
});

afterAll(async () => {
  for (const l of listeners) l.stop();
  await stopAllServices();
  removeDir(dir);
}, 30_000);

/** Waits (up to a generous 30 s, a safety bound) until the process's stderr says `pattern`. */
async function stderrSays(peer: Btpeer, pattern: RegExp): Promise<boolean> {
  for (let i = 0; i < 300 && !pattern.test(peer.service.output()); i++) await Bun.sleep(100);
  return pattern.test(peer.service.output());
}

const stats = (): ScriptedStats => ({ requests: 0, admitted: 0, closed: 0 });

describe("a btpeer seeder and scripted peers", () => {
  for (const message of [
    { type: "have-all" },
    { type: "have-none" },
    { type: "suggest", index: 1 },
    { type: "allowed-fast", index: 1 },
    { type: "reject", index: 0, begin: 0, length: 16384 },
  ] as WireMessage[]) {
    test(`a peer without the fast bit that sends ${message.type} is dropped; it was sent a bitfield, never a fast message`, async () => {
      const received: WireMessage[] = [];
      await connectScripted(meta, "127.0.0.1", seeder.port, `nofast-${message.type}`, stats(), {
        start: (wire) => wire.send(message),
        message: (m) => void received.push(m),
      });
      expect(received[0]?.type).toBe("bitfield");
      expect(received.some((m) => ["have-all", "have-none", "reject", "allowed-fast", "suggest"].includes(m.type))).toBe(false);
      expect(await stderrSays(seeder, new RegExp(`closed: protocol error: ${message.type} from a peer without the fast extension`))).toBe(true);
    }, 30_000);
  }

  test("a fast peer gets have-all and BEP 6's allowed fast set; choked, it is served those pieces and rejected the rest", async () => {
    const expected = allowedFastSet(new Uint8Array([127, 0, 0, 1]), meta.infoHash, meta.pieceCount);
    const outside = [...Array(meta.pieceCount).keys()].find((i) => !expected.includes(i))!;
    const received: WireMessage[] = [];
    let phase: "start" | "choked" = "start";
    let wire!: Wire;
    const done = new Promise<void>((resolve) => {
      void connectScripted(
        meta,
        "127.0.0.1",
        seeder.port,
        "fast",
        stats(),
        {
          start: (w) => {
            wire = w;
            w.send({ type: "interested" }); // grants the allowed fast set (and, with a free slot, an unchoke)
          },
          message: (m) => {
            received.push(m);
            if (m.type === "unchoke" && phase === "start") wire.send({ type: "not-interested" }); // the seeder chokes us again
            if (m.type === "choke" && phase === "start") {
              phase = "choked";
              wire.send({ type: "request", index: expected[0]!, begin: 0, length: 16384 });
              wire.send({ type: "request", index: outside, begin: 16384, length: 16384 });
            }
            if (phase === "choked" && received.some((r) => r.type === "piece") && received.some((r) => r.type === "reject")) {
              wire.close();
              resolve();
            }
          },
        },
        { fast: true, bitfield: new Uint8Array(Math.ceil(meta.pieceCount / 8)) },
      );
    });
    await done;
    expect(received[0]).toEqual({ type: "have-all" });
    expect(received.filter((m) => m.type === "bitfield")).toEqual([]);
    const granted = received.filter((m) => m.type === "allowed-fast").map((m) => (m as { index: number }).index);
    expect(granted.sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
    const piece = received.find((m) => m.type === "piece") as Extract<WireMessage, { type: "piece" }>;
    expect([piece.index, piece.begin, piece.block.length]).toEqual([expected[0]!, 0, 16384]);
    expect(received.find((m) => m.type === "reject")).toEqual({ type: "reject", index: outside, begin: 16384, length: 16384 });
  }, 30_000);
  test("a request cancelled while still queued gets a reject: every request of a fast peer gets exactly one answer", async () => {
    const received: WireMessage[] = [];
    const asked = [0, 1, 2].map((i) => ({ type: "request", index: i, begin: 0, length: 16384 }) as const);
    await connectScripted(
      meta,
      "127.0.0.1",
      seeder.port,
      "cancel",
      stats(),
      {
        start: (wire) => wire.send({ type: "interested" }),
        message: (m, wire) => {
          received.push(m);
          // Unchoked: three requests and the cancel of the last in one write, so they arrive in one turn.
          if (m.type === "unchoke") wire.sendRaw(Buffer.concat([...asked.map((r) => encodeMessage(r)), encodeMessage({ ...asked[2]!, type: "cancel" })]));
          const answers = received.filter((r) => r.type === "piece" || r.type === "reject");
          if (answers.length === 3) wire.close();
        },
      },
      { fast: true, bitfield: new Uint8Array(Math.ceil(meta.pieceCount / 8)) },
    );
    const answers = received.filter((r) => r.type === "piece" || r.type === "reject");
    expect(answers.map((r) => [r.type, (r as { index: number }).index])).toEqual([
      ["reject", 2],
      ["piece", 0],
      ["piece", 1],
    ]);
  }, 30_000);
});

describe("a btpeer leecher and scripted fast peers", () => {
  // The scripted peer is the leecher's only peer until it has done its part; then an honest seeder dials in
  // and must bring everything. With both peers from the start, the seeder could deliver all 2 MiB before the
  // scripted peer's first message was read (a test process 1.5 s late made it so).
  const leechAlone = async (hostile: ListeningPeer, name: string) => {
    listeners.push(hostile);
    return startBtpeer(["download", torrent, "--out", path.join(dir, name), "--no-seed", "--peer", hostile.address], {
      name: `leecher (${name})`,
      env: { BTPEER_DEBUG: "1" },
    });
  };
  const seederDialsIn = (leecher: Btpeer) =>
    startBtpeer(["seed", torrent, "--dir", path.join(dir, "src"), "--peer", leecher.address], { name: "seeder dialling the leecher" });
  const completes = async (leecher: Btpeer, name: string) => {
    const done = await leecher.waitFor(isEvent("completed"), 90_000);
    expect(done.have).toBe(meta.pieceCount);
    expect(await sha256File(path.join(dir, name, "data.bin"))).toBe(await sha256File(path.join(dir, "src", "data.bin")));
  };

  test("rejects for blocks it never asked for cost the sender its connection", async () => {
    const empty = new Uint8Array(Math.ceil(meta.pieceCount / 8));
    const hostile = listenScripted(
      meta,
      HOSTILE_HOST,
      "rejects",
      {
        start: (wire) => {
          wire.send({ type: "unchoke" });
          const rejects = Array.from({ length: 40 }, (_, i) => encodeMessage({ type: "reject", index: i % meta.pieceCount, begin: 0, length: 16384 }));
          wire.sendRaw(Buffer.concat(rejects));
        },
      },
      { fast: true, bitfield: empty },
    );
    const leecher = await leechAlone(hostile, "rejects");
    expect(await stderrSays(leecher, new RegExp(`${HOSTILE_HOST}:${hostile.port} closed: protocol error: sent 17 blocks or rejects nobody asked for`))).toBe(
      true,
    );
    await seederDialsIn(leecher);
    await completes(leecher, "rejects");
  }, 120_000);

  test("an allowed fast index past the last piece costs the sender its connection", async () => {
    const hostile = listenScripted(
      meta,
      HOSTILE_HOST,
      "allowed",
      {
        start: (wire) => {
          const frame = encodeMessage({ type: "allowed-fast", index: 0 });
          new DataView(frame.buffer).setUint32(5, meta.pieceCount + 3); // the codec will not write it; the bytes can say it
          wire.sendRaw(frame);
        },
      },
      { fast: true },
    );
    const leecher = await leechAlone(hostile, "allowed");
    expect(await stderrSays(leecher, new RegExp(`${HOSTILE_HOST}:${hostile.port} closed: protocol error: piece index ${meta.pieceCount + 3} but`))).toBe(true);
    await seederDialsIn(leecher);
    await completes(leecher, "allowed");
  }, 120_000);

  // Once with 16 KiB requests, once with requests of two blocks (a peer that serves long ones), rejected whole.
  for (const maxRequest of [undefined, 128 * 1024]) {
    test(`a peer that rejects every request${maxRequest ? " (of two blocks)" : ""} keeps its connection; the rejected blocks come from the honest seeder`, async () => {
      let rejected = 0;
      let longest = 0;
      let firstReject!: () => void;
      const rejectedOnce = new Promise<void>((resolve) => (firstReject = resolve));
      const hostile = listenScripted(
        meta,
        HOSTILE_HOST,
        "rejecter",
        {
          start: (wire) => wire.send({ type: "unchoke" }),
          message: (m, wire) => {
            if (m.type !== "request") return;
            rejected++;
            longest = Math.max(longest, m.length);
            wire.send({ type: "reject", index: m.index, begin: m.begin, length: m.length });
            firstReject();
          },
        },
        { fast: true, ...(maxRequest ? { maxRequest } : {}) },
      );
      // Its rejects come before any honest block; the seeder dialling in must then bring the rejected blocks.
      const name = maxRequest ? "long-rejecter" : "rejecter";
      const leecher = await leechAlone(hostile, name);
      await Promise.race([rejectedOnce, Bun.sleep(30_000)]);
      expect(rejected).toBeGreaterThan(0);
      expect(longest).toBe(maxRequest ? PIECE : 16 * 1024);
      await seederDialsIn(leecher);
      await completes(leecher, name);
      expect(leecher.service.output()).not.toContain(`${HOSTILE_HOST}:${hostile.port} closed: protocol`);
    }, 120_000);
  }
});
