// Hostile metadata sources for `btpeer download <magnet>`, scripted with the shared codecs (metadata-peers.ts):
// an absurd metadata_size, metadata failing the info hash (from one peer, and from two peers of which one
// lies), a peer that never answers, `data` for a piece nobody asked for, a total_size that contradicts the
// announced size. Each time btpeer must not crash, must drop or ban the right peer, and still complete from
// an honest btpeer seeder. Hostile peers listen on 127.0.0.2 (bans hold per IP); the honest seeder is on
// 127.0.0.1 and dials the leecher only once the hostile peer has been dealt with, so that it surely was.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { formatMagnet } from "../../shared/magnet.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { metadataPieceCount, metadataPieceLength } from "../../shared/wire/ut-metadata.ts";
import { removeDir } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { isEvent, startBtpeer, type Btpeer } from "./btpeer-harness.ts";
import { expectSameTree, makeManyFiles, seedFixture } from "../support/seed-fixture.ts";
import { listenMetadataPeer, truePiece, type MetadataPeer, type MetadataScript } from "./metadata-peers.ts";

const HOSTILE = "127.0.0.2";
const OTHER = "127.0.0.3";

let dir = "";
let source = "";
let torrent = "";
let meta: Metainfo;
let run = 0;

beforeAll(async () => {
  ({ dir, source, torrent, meta } = await seedFixture("btpeer-magnet-hostile-", "many", 16384, (folder) => makeManyFiles(folder, 700, (i) => 500 + i)));
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

/** A magnet leecher dialling only `peers`. */
async function leecher(peers: string[]): Promise<{ btpeer: Btpeer; out: string }> {
  const out = path.join(dir, `out-${++run}`);
  const link = formatMagnet({ infoHash: meta.infoHash, peers });
  const btpeer = await startBtpeer(["download", link, "--out", out, "--no-seed"], { name: `magnet leecher ${run}`, readyEvent: "magnet" });
  return { btpeer, out };
}

/** The honest seeder dials the leecher; the leecher must finish with the data intact. */
async function completeFromHonestSeeder(l: { btpeer: Btpeer; out: string }): Promise<void> {
  const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source), "--peer", l.btpeer.address], { name: `honest seeder ${run}` });
  await l.btpeer.waitFor((e) => e.event === "metadata" && e.done === true);
  await l.btpeer.waitFor(isEvent("completed"));
  expect(await l.btpeer.service.exited).toBe(0);
  await expectSameTree(path.join(l.out, "many"), source);
  await seeder.stop();
}

const garbage = (length: number) => new Uint8Array(length).fill(0x5a);

function hostile(script: MetadataScript, host = HOSTILE): MetadataPeer {
  return listenMetadataPeer(meta, host, script);
}

describe("btpeer download <magnet> against hostile metadata sources", () => {
  test("the info dictionary spans several metadata pieces", () => {
    expect(metadataPieceCount(meta.infoBytes.length)).toBeGreaterThanOrEqual(3);
  });

  test("an absurd metadata_size: the peer is dropped unasked", async () => {
    const bad = hostile({ size: 100 * 1024 * 1024 });
    const l = await leecher([bad.address]);
    await bad.closed;
    expect(bad.requests).toEqual([]);
    await completeFromHonestSeeder(l);
    bad.stop();
  }, 120_000);

  test("metadata failing the info hash from its one sender: that peer is banned", async () => {
    const size = meta.infoBytes.length;
    const liar = hostile({ size, request: (piece, wire) => wire.data(piece, size, garbage(metadataPieceLength(size, piece))) });
    const l = await leecher([liar.address]);
    const failed = await l.btpeer.waitFor(isEvent("metadata-failed"));
    expect(failed.peers).toEqual([liar.address]);
    expect(failed.parole).toBe(false);
    const banned = await l.btpeer.waitFor(isEvent("peer-banned"));
    expect(banned.peer).toBe(liar.address);
    await completeFromHonestSeeder(l);
    liar.stop();
  }, 120_000);

  test("metadata failing the info hash from two senders: fetched again one peer at a time, only the liar is banned", async () => {
    const size = meta.infoBytes.length;
    // Both hold their answers until both were asked, so that the first assembly surely mixes their pieces.
    const held: (() => void)[] = [];
    let peers: MetadataPeer[] = [];
    const hold = (answer: () => void) => {
      if (peers.every((p) => p.requests.length > 0) && held.length === 0) return answer();
      held.push(answer);
      if (peers.every((p) => p.requests.length > 0)) for (const f of held.splice(0)) f();
    };
    const liar = hostile({ size, request: (piece, wire) => hold(() => wire.data(piece, size, garbage(metadataPieceLength(size, piece)))) });
    const honest = hostile({ size, request: (piece, wire) => hold(() => wire.data(piece, size, truePiece(meta, piece))) }, OTHER);
    peers = [liar, honest];
    const l = await leecher([liar.address, honest.address]);
    const failed = await l.btpeer.waitFor(isEvent("metadata-failed"));
    expect(failed.parole).toBe(true);
    expect([...(failed.peers as string[])].sort()).toEqual([liar.address, honest.address].sort());
    await l.btpeer.waitFor((e) => e.event === "metadata" && e.done === true);
    const bans = l.btpeer.events().filter(isEvent("peer-banned"));
    expect(bans.map((e) => e.peer)).toEqual([liar.address]);
    await completeFromHonestSeeder(l);
    liar.stop();
    honest.stop();
  }, 120_000);

  test("a peer that never answers: its requests time out and go to another peer; it is not asked again", async () => {
    const silent = hostile({ size: meta.infoBytes.length });
    const l = await leecher([silent.address]);
    while (silent.requests.length === 0) await Bun.sleep(50);
    await completeFromHonestSeeder(l);
    expect(silent.requests.length).toBeLessThanOrEqual(2);
    silent.stop();
  }, 120_000);

  test("data for a piece nobody asked for: the peer is dropped", async () => {
    const size = meta.infoBytes.length;
    const last = metadataPieceCount(size) - 1;
    const pusher = hostile({ size, start: (wire) => wire.data(last, size, truePiece(meta, last)) });
    const l = await leecher([pusher.address]);
    await pusher.closed;
    await completeFromHonestSeeder(l);
    pusher.stop();
  }, 120_000);

  test("a total_size that contradicts the announced metadata_size: the peer is dropped", async () => {
    const size = meta.infoBytes.length;
    const other = size + 1;
    const contradicts = hostile({ size, request: (piece, wire) => wire.data(piece, other, garbage(metadataPieceLength(other, piece))) });
    const l = await leecher([contradicts.address]);
    await contradicts.closed;
    expect(contradicts.requests.length).toBeGreaterThan(0);
    await completeFromHonestSeeder(l);
    contradicts.stop();
  }, 120_000);
});
