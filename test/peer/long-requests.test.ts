// Long requests between peers that serve them (`btpeer_max_request` in the BEP 10 handshake): a btpeer
// seeder tells its longest request and answers one with a single piece message of the file's bytes; a
// btpeer leecher asks a peer that tells 128 KiB for runs of up to 8 blocks, and a peer that tells nothing
// for 16 KiB blocks, as BEP 3 clients expect. Scripted peers on the shared codec, real btpeer processes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { decodeExtensionHandshake } from "../../shared/wire/extension.ts";
import { removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { type Btpeer, isEvent, startBtpeer, startRandomFileSeeder } from "./btpeer-harness.ts";
import { connectScripted, listenScripted, type ListeningPeer, type ScriptedStats, type Wire } from "./hostile-peers.ts";

const BLOCK = 16 * 1024;
// Twelve 1 MiB pieces and a short last one whose length is no multiple of a block.
const SIZE = 12 * 1024 * 1024 + 50_000;

let dir: string;
let torrent: string;
let meta: Metainfo;
let content: Uint8Array;
let seeder: Btpeer;
/** The same data served from buffers (what MSE connections use) rather than spliced from the file. */
let bufferSeeder: Btpeer;
const listeners: ListeningPeer[] = [];

beforeAll(async () => {
  ({ dir, torrent, content, seeder } = await startRandomFileSeeder("long-requests-", SIZE, 59));
  meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
  bufferSeeder = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "seed"), "--no-dht", "--encryption", "disable"], {
    name: "btpeer seed (buffers)",
    env: { BTPEER_SPLICE: "0" },
  });
}, 60_000);

afterAll(async () => {
  for (const l of listeners) l.stop();
  await stopAllServices();
  if (dir) removeDir(dir);
}, 30_000);

const stats = (): ScriptedStats => ({ requests: 0, admitted: 0, closed: 0 });
const pieceLength = (index: number) => Math.min(meta.pieceLength, meta.length - index * meta.pieceLength);

/** The torrent as requests of at most `most` bytes, none across a piece's end. */
function requestsOf(most: number): { index: number; begin: number; length: number }[] {
  const out = [];
  for (let index = 0; index < meta.pieceCount; index++) {
    for (let begin = 0; begin < pieceLength(index); begin += most) out.push({ index, begin, length: Math.min(most, pieceLength(index) - begin) });
  }
  return out;
}

describe("a btpeer seeder and a leecher that asks long requests", () => {
  for (const how of ["spliced", "from buffers"] as const) {
    test(`the seeder tells 128 KiB and answers each request of up to 128 KiB with one piece message of the file's bytes (${how})`, async () => {
      let told: number | undefined;
      let pending: ReturnType<typeof requestsOf> = [];
      const answers: { asked: number; got: number; right: boolean }[] = [];
      const ask = (wire: Wire) => {
        pending = requestsOf(told!);
        for (const r of pending) wire.send({ type: "request", ...r });
      };
      await connectScripted(
        meta,
        "127.0.0.1",
        (how === "spliced" ? seeder : bufferSeeder).port,
        "long",
        stats(),
        {
          start: (wire) => wire.send({ type: "interested" }),
          message(m, wire) {
            if (m.type === "extended" && m.id === 0) told = decodeExtensionHandshake(m.payload).maxRequest;
            if (m.type === "unchoke" && told) ask(wire);
            if (m.type !== "piece") return;
            const asked = pending.find((r) => r.index === m.index && r.begin === m.begin);
            const at = m.index * meta.pieceLength + m.begin;
            answers.push({ asked: asked?.length ?? -1, got: m.block.length, right: Buffer.from(m.block).equals(content.subarray(at, at + m.block.length)) });
            if (answers.length === pending.length) wire.close();
          },
        },
        { extensions: {} },
      );
      expect(told).toBe(128 * 1024);
      expect(answers.length).toBe(requestsOf(128 * 1024).length);
      for (const a of answers) expect(a).toEqual({ asked: a.got, got: a.got, right: true });
      expect(answers.filter((a) => a.got === 128 * 1024).length).toBe(12 * 8);
    }, 60_000);
  }

  test("a request longer than the seeder tells costs the connection", async () => {
    let asked = false;
    let answered = false;
    // Resolves once the connection ends: this peer never ends it itself.
    await connectScripted(
      meta,
      "127.0.0.1",
      seeder.port,
      "too-long",
      stats(),
      {
        start: (wire) => wire.send({ type: "interested" }),
        message(m, wire) {
          if (m.type === "piece") answered = true;
          if (m.type !== "unchoke") return;
          wire.send({ type: "request", index: 0, begin: 0, length: 128 * 1024 + BLOCK });
          asked = true;
        },
      },
      { extensions: {} },
    );
    expect(asked).toBe(true);
    expect(answered).toBe(false);
  }, 60_000);
});

describe("a btpeer leecher and seeders that tell their longest request, or not", () => {
  /** A scripted seeder of the file that answers every request whole; it records the lengths asked. */
  function scriptedSeeder(tag: string, maxRequest?: number): { peer: ListeningPeer; lengths: number[] } {
    const lengths: number[] = [];
    const peer = listenScripted(
      meta,
      "127.0.0.4",
      tag,
      {
        start: (wire) => wire.send({ type: "unchoke" }),
        message(m, wire) {
          if (m.type !== "request") return;
          lengths.push(m.length);
          const at = m.index * meta.pieceLength + m.begin;
          wire.send({ type: "piece", index: m.index, begin: m.begin, block: content.subarray(at, at + m.length) });
        },
      },
      maxRequest ? { maxRequest } : { extensions: {} },
    );
    listeners.push(peer);
    return { peer, lengths };
  }

  for (const told of [128 * 1024, undefined]) {
    test(`from a seeder that tells ${told ? `${told / 1024} KiB` : "nothing"}, the download asks ${told ? "runs of up to 8 blocks" : "16 KiB blocks"} and verifies`, async () => {
      const name = told ? "told" : "untold";
      const { peer, lengths } = scriptedSeeder(name, told);
      const leecher = await startBtpeer(["download", torrent, "--out", path.join(dir, name), "--no-seed", "--no-dht", "--peer", peer.address], {
        name: `leecher (${name})`,
      });
      const done = await leecher.waitFor(isEvent("completed"), 90_000);
      expect(done.have).toBe(meta.pieceCount);
      expect(await sha256File(path.join(dir, name, "payload.bin"))).toBe(await sha256File(path.join(dir, "seed", "payload.bin")));
      expect(Math.max(...lengths)).toBe(told ?? BLOCK);
      if (told) {
        // Runs are cut at pieces' ends and where the picker's free blocks stop, and once the last piece has
        // started (end game) requests are one block each: most of the bytes still go in long requests.
        const long = lengths.filter((l) => l > BLOCK).reduce((a, b) => a + b, 0);
        expect(long).toBeGreaterThan(SIZE / 2);
        expect(lengths.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(SIZE);
      }
    }, 120_000);
  }
});
