// MSE/PE between dist/btpeer and a real aria2c on loopback. aria2c finds peers only through a tracker, so
// the torrent names ours. aria2c requiring encryption (--bt-require-crypto=true, RC4 minimum) downloads
// from a btpeer seeder and seeds to a btpeer leecher, through RC4; aria2c with default settings opens every
// connection with MSE (offering both payloads) and is taken at once, with the plaintext payload we select.
// What each connection went through comes from btpeer's own peer-connected event.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { startAria2 } from "../support/aria2.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { isEvent, makeTorrent, startBtpeer, startTracker, type Btpeer, type Tracker } from "../peer/btpeer-harness.ts";
import { ensureBinary } from "./btpeer-binary.ts";

describe.skipIf(!needs(PROGRAMS.aria2))("MSE/PE: dist/btpeer and aria2c", () => {
  let dir = "";
  let source = "";
  let torrent = "";
  let binary = "";
  let tracker: Tracker;
  beforeAll(async () => {
    binary = ensureBinary();
    dir = makeTempDir("btpeer-mse-aria2-");
    tracker = await startTracker();
    source = path.join(dir, "seed", "album.bin");
    makeRandomFile(source, 900_000, 33);
    torrent = await makeTorrent(source, path.join(dir, "album.torrent"), { pieceLength: 65536, trackers: [tracker.announce] });
  }, 120_000);
  afterAll(async () => {
    await stopAllServices();
    await tracker?.stop();
    removeDir(dir);
  }, 30_000);

  const connected = (peer: Btpeer) => peer.events().filter(isEvent("peer-connected"));

  for (const [requireCrypto, expected] of [
    [true, "mse-rc4"],
    [false, "mse-plaintext"],
  ] as const) {
    test(`aria2c (${requireCrypto ? "--bt-require-crypto" : "default settings"}) opens with MSE and downloads everything from a btpeer seeder, taken at once through ${expected}`, async () => {
      const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { binary, name: "btpeer seeder" });
      try {
        await seeder.waitFor(isEvent("tracker"), 30_000); // registered before aria2c asks
        const out = path.join(dir, `aria2-leech-${requireCrypto}`);
        const aria2 = await startAria2({ torrent, dir: out, requireCrypto, stallTimeoutS: 60, name: `aria2c require-crypto=${requireCrypto}` });
        await aria2.done();
        expect(await sha256File(path.join(out, "album.bin"))).toBe(await sha256File(source));
        const kinds = connected(seeder).map((e) => [e.outgoing, e.encryption]);
        expect(kinds.length).toBeGreaterThan(0);
        expect(kinds.every(([outgoing, kind]) => outgoing === false && kind === expected)).toBe(true);
        // Nothing refused on the way: its first (MSE) connection was the one taken.
        expect(seeder.events().filter((e) => e.event === "incoming-dropped" && e.code !== "closed-by-peer")).toEqual([]);
      } finally {
        await seeder.stop();
      }
    }, 120_000);
  }

  test("btpeer (prefer) downloads everything from aria2c seeding with encryption required, through RC4 only", async () => {
    const port = freePort();
    const aria2 = await startAria2({ torrent, dir: path.dirname(source), port, seedTimeMin: 5, requireCrypto: true, name: "aria2c seed require-crypto" });
    const out = path.join(dir, "from-aria2");
    try {
      const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", `127.0.0.1:${port}`], { binary, name: "btpeer leecher" });
      await leecher.waitFor(isEvent("completed"), 90_000);
      expect(await leecher.service.exited).toBe(0);
      expect(await sha256File(path.join(out, "album.bin"))).toBe(await sha256File(source));
      // We dial it (--peer), and it may dial us too once the tracker names us: RC4 either way.
      const kinds = connected(leecher).map((e) => e.encryption);
      expect(kinds.length).toBeGreaterThan(0);
      expect(kinds.every((kind) => kind === "mse-rc4")).toBe(true);
    } finally {
      await aria2.stop();
    }
  }, 120_000);
});
