// Dormant torrents (peer/daemon/torrent-entry.ts): a seeding torrent with nothing to do is let go, its
// record kept; it lists as before, and a real btpeer leecher's handshake naming it (plain or MSE) makes it
// again, and it serves the verified data. After a restart, the stored torrents go dormant again.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { DaemonEvent } from "../../peer/daemon/control.ts";
import { Daemon } from "../../peer/daemon/service.ts";
import { makeRandomFile, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { until } from "../support/until.ts";
import { startBtpeer } from "../peer/btpeer-harness.ts";
import { type SeedFixture, seedFixture } from "../support/seed-fixture.ts";

let album: SeedFixture;
let hex = "";
const FILES = { "one.bin": 300_000, "disc/two.bin": 200_000 };

beforeAll(async () => {
  album = await seedFixture("btpeer-daemon-dormant-", "album", 32 * 1024, (folder) => {
    let seed = 10;
    for (const [name, size] of Object.entries(FILES)) makeRandomFile(path.join(folder, name), size, seed++);
  });
  hex = Buffer.from(album.meta.infoHash).toString("hex");
});

afterAll(async () => {
  await stopAllServices();
  removeDir(album.dir);
}, 30_000);

/** A leecher of the album from the daemon alone; resolves once it has every byte (it exits then). */
async function leech(port: number, out: string, encryption: string): Promise<void> {
  const leecher = await startBtpeer(
    ["download", album.torrent, "--out", out, "--no-seed", "--no-dht", "--encryption", encryption, "--peer", `127.0.0.1:${port}`],
    { name: `leecher (${encryption})` },
  );
  await leecher.waitFor((e) => e.event === "completed");
  await leecher.stop();
  for (const name of Object.keys(FILES)) expect(await sha256File(path.join(out, "album", name))).toBe(await sha256File(path.join(album.source, name)));
}

function expectListedSeeding(daemon: Daemon, uploaded: number): void {
  expect(daemon.list()).toEqual([
    expect.objectContaining({
      infoHash: hex,
      name: "album",
      state: "seeding",
      progress: 1,
      size: 500_000,
      wantedSize: 500_000,
      peers: 0,
      uploaded,
      error: null,
    }),
  ]);
  const detail = daemon.get(hex);
  expect(detail).toMatchObject({ state: "seeding", progress: 1, pieceCount: 16, pieceLength: 32 * 1024, peerList: [], limits: { maxPeers: 50 } });
  expect(Buffer.from(detail.pieces, "base64")).toEqual(Buffer.from([0xff, 0xff]));
  expect(detail.files.map((f) => [f.path, f.length, f.progress, f.priority])).toEqual([
    ["disc/two.bin", 200_000, 1, "normal"],
    ["one.bin", 300_000, 1, "normal"],
  ]);
  expect(daemon.stats()).toMatchObject({ torrents: 1, byState: { seeding: 1 }, peers: 0 });
}

describe("a dormant torrent", () => {
  test("lists as a seeding torrent while dormant, wakes on a leecher's handshake and serves it verified data, and is dormant again after a restart", async () => {
    const stateDir = path.join(album.dir, "state");
    const open = () => Daemon.open({ stateDir, downloadDir: album.dir, port: 0, bind: "127.0.0.1", log: () => {} });
    let daemon = open();
    const events: DaemonEvent[] = [];
    daemon.subscribe((e) => events.push(e));
    try {
      await daemon.add({ source: { torrent: new Uint8Array(fs.readFileSync(album.torrent)) }, savePath: path.dirname(album.source) });
      await until(() => daemon.dormant(hex), "the seeded torrent going dormant", { tries: 600, everyMs: 50 });
      expect(events.filter((e) => e.event === "started")).toEqual([expect.objectContaining({ checked: 16, seeding: true })]);
      // Looking at it does not wake it.
      expectListedSeeding(daemon, 0);
      expect(daemon.dormant(hex)).toBe(true);

      await leech(daemon.port, path.join(album.dir, "out-plain"), "disable");
      // Woken without a second `started`; what it sent counts on.
      expect(events.filter((e) => e.event === "started")).toHaveLength(1);
      expect(daemon.list()[0]!.uploaded).toBeGreaterThanOrEqual(500_000);
      expect(daemon.list()[0]!.uploadedSession).toBeGreaterThanOrEqual(500_000);

      // Restarted: the stored torrent is trusted from its resume data and goes dormant again; an MSE
      // handshake (found by the SKEY of its info hash) wakes it.
      await daemon.close();
      daemon = open();
      const restarted: DaemonEvent[] = [];
      daemon.subscribe((e) => restarted.push(e));
      await daemon.loaded;
      // Dormant from the start (no Torrent built), its listeners told what a start would have said.
      expect(daemon.dormant(hex)).toBe(true);
      const have = { have: 16, pieces: 16, wantedPieces: 16, resumedPieces: 16, fetchedPieces: 0, downloaded: 0, uploaded: 0 };
      expect(restarted).toEqual([
        { infoHash: hex, event: "checking", pieces: 0 },
        expect.objectContaining({ infoHash: hex, event: "checked", checked: 0, ...have }),
        expect.objectContaining({
          infoHash: hex,
          event: "started",
          name: "album",
          length: 500_000,
          port: daemon.port,
          seeding: true,
          checked: 0,
          webSeeds: [],
          ...have,
        }),
        expect.objectContaining({ infoHash: hex, event: "completed", ...have }),
      ]);
      const uploaded = daemon.list()[0]!.uploaded;
      expect(uploaded).toBeGreaterThanOrEqual(500_000);
      expectListedSeeding(daemon, uploaded);
      await leech(daemon.port, path.join(album.dir, "out-mse"), "require");
      expect(restarted.filter((e) => e.event === "started")).toHaveLength(1);
      expect(daemon.list()[0]!.uploaded).toBeGreaterThanOrEqual(uploaded + 500_000);

      // Asked for by the API, it wakes: paused, then resumed, it is a seeder again.
      await daemon.pause(hex);
      expect(daemon.dormant(hex)).toBe(false);
      expect(daemon.get(hex).state).toBe("paused");
      await daemon.resume(hex);
      await until(() => daemon.get(hex).state === "seeding", "seeding again after resume", { tries: 600, everyMs: 50 });
    } finally {
      await daemon.close();
    }
  }, 120_000);

  test("a file changed while the torrent was dormant is checked when it wakes, not served", async () => {
    const stateDir = path.join(album.dir, "state-changed");
    const save = path.join(album.dir, "changed");
    fs.cpSync(path.dirname(album.source), save, { recursive: true });
    const daemon = Daemon.open({ stateDir, downloadDir: album.dir, port: 0, bind: "127.0.0.1", log: () => {} });
    const events: DaemonEvent[] = [];
    daemon.subscribe((e) => events.push(e));
    try {
      await daemon.add({ source: { torrent: new Uint8Array(fs.readFileSync(album.torrent)) }, savePath: save });
      // Dormant, and its resume data (with the files' stamps) written.
      const stamped = () => (daemon.store.getResume(album.meta.infoHash)?.files.filter((f) => f !== null).length ?? 0) === 2;
      await until(() => daemon.dormant(hex) && stamped(), "dormant with its resume data written", { tries: 600, everyMs: 50 });
      // Same size, other bytes, a later mtime.
      const one = path.join(save, "album", "one.bin");
      const bytes = fs.readFileSync(one);
      bytes.fill(7, 0, 70_000);
      fs.writeFileSync(one, bytes);
      fs.utimesSync(one, new Date(), new Date(Date.now() + 5_000));

      await daemon.reannounce(hex); // asked for by the API: it wakes
      await until(() => events.some((e) => e.event === "checked"), "the check after waking", { tries: 600, everyMs: 50 });
      await until(() => daemon.get(hex).state !== "checking", "the check's end", { tries: 600, everyMs: 50 });
      const detail = daemon.get(hex);
      expect(detail.state).toBe("downloading");
      // 70,000 bytes overwritten from the first byte of one.bin (after disc/two.bin's 200,000): pieces 6 to 8
      // are bad, and two.bin keeps all but its last piece (shared with one.bin).
      expect(detail.pieces).toBe(Buffer.from([0b11111100, 0b01111111]).toString("base64"));
      expect(detail.files.find((f) => f.path === "disc/two.bin")!.progress).toBeCloseTo(196_608 / 200_000, 6);
      expect(daemon.dormant(hex)).toBe(false);
    } finally {
      await daemon.close();
    }
  }, 120_000);
});
