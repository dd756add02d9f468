// Ban evasion: a hostile peer that connects to a btpeer leecher's listen port, sends bad data, and comes
// back from a fresh port with a fresh peer id each time (it even hangs up itself after one piece's worth,
// so no single connection collects two strikes). Bans hold for its IP: after the ban no connection of it
// gets past the handshake, and the download completes from the honest seeders. The hostile peer dials from
// 127.0.0.3 (loopback on Linux): a ban of its IP must not catch the seeder on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { isEvent, makeTorrent, startBtpeer, startPartialSeeder, type BtpeerEvent } from "./btpeer-harness.ts";
import { connectScripted, type ScriptedStats } from "./hostile-peers.ts";

const HOSTILE_FROM = "127.0.0.3";
const ATTEMPTS = 40;

let dir = "";
let torrent = "";
let meta: Metainfo;

beforeAll(async () => {
  dir = makeTempDir("btpeer-ban-");
  makeRandomFile(path.join(dir, "src", "data.bin"), 4 * 1024 * 1024 + 999, 23);
  torrent = await makeTorrent(path.join(dir, "src", "data.bin"), path.join(dir, "data.torrent"), { pieceLength: 64 * 1024 });
  meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

describe("a hostile incoming peer that comes back with fresh ports and peer ids", () => {
  test("is banned by IP: after the ban none of its connections gets past the handshake, and only it is banned", async () => {
    // An honest btpeer holding the first 48 of the 65 pieces (at 512 KiB/s), so the download outlasts the
    // hostile peer's attempts however long they take; a whole seeder dials in after them. (A whole seeder at
    // 512 KiB/s from the start gave the 40 attempts about 8 s, a few more than they took here.)
    const partial = await startPartialSeeder(torrent, path.join(dir, "src", "data.bin"), {
      pieceLength: 64 * 1024,
      pieces: 48,
      dir: path.join(dir, "partial"),
      args: ["--upload-limit", "512K"],
      name: "honest partial seeder",
    });
    const out = path.join(dir, "out");
    const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", partial.address], { name: "leecher" });
    const hostileBanned = (e: BtpeerEvent) => e.event === "peer-banned" && String(e.peer).startsWith(`${HOSTILE_FROM}:`);

    const stats: ScriptedStats = { requests: 0, admitted: 0, closed: 0 };
    let admittedAfterBan = 0;
    for (let attempt = 0; attempt < ATTEMPTS && !leecher.service.hasExited; attempt++) {
      let answered = 0;
      // The ban event may be printed a little after the ban, never before it: once we have seen it, an
      // admitted connection is one the ban let through.
      const bannedBefore = leecher.events().some(hostileBanned);
      await connectScripted(meta, HOSTILE_FROM, leecher.port, "evader", stats, {
        start(wire) {
          if (bannedBefore) admittedAfterBan++;
          wire.send({ type: "unchoke" });
          setTimeout(() => wire.close(), 2_000); // in case no request comes
        },
        message(m, wire) {
          if (m.type !== "request") return;
          wire.send({ type: "piece", index: m.index, begin: m.begin, block: new Uint8Array(m.length).fill(0x5a) });
          if (++answered === 4) wire.close(); // about one piece of bad data per connection, then a fresh identity
        },
      });
      await Bun.sleep(20);
    }

    expect(stats.closed).toBe(ATTEMPTS); // every attempt was made while the leecher ran
    expect(leecher.events().some(hostileBanned)).toBe(true);
    expect(admittedAfterBan).toBe(0);
    expect(stats.admitted).toBeLessThan(ATTEMPTS / 2); // only the few before its strikes added up

    const seeder = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "src"), "--peer", leecher.address], { name: "honest seeder dialling in" });
    const done = await leecher.waitFor(isEvent("completed"), 120_000);
    expect(done.have).toBe(meta.pieceCount);
    expect(leecher.events().filter(isEvent("peer-banned")).every(hostileBanned)).toBe(true); // the seeder on 127.0.0.1 is not caught
    expect(await leecher.service.exited).toBe(0);
    expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(path.join(dir, "src", "data.bin")));
    await seeder.stop();
    await partial.stop();
  }, 180_000);
});
