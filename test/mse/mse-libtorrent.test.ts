// MSE/PE between dist/btpeer and a real libtorrent on loopback. libtorrent with encryption forced both
// ways (out_enc_policy/in_enc_policy = pe_forced) and RC4 only (allowed_enc_level = rc4) seeds to a btpeer
// leecher and leeches from a btpeer seeder, both under btpeer's default policy; what each connection went
// through comes from btpeer's own peer-connected event. Also: a libtorrent allowing only the plaintext
// payload gets it, offered both we select plaintext, a libtorrent with encryption disabled is reached by
// falling back to plain BitTorrent, and --encryption require / disable refuse the kind they exclude.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { startLtPeer, type LtPeerOptions } from "../support/libtorrent.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { isEvent, makeTorrent, startBtpeer, type Btpeer } from "../peer/btpeer-harness.ts";
import { ensureBinary } from "./btpeer-binary.ts";

describe.skipIf(!needs(PROGRAMS.libtorrent))("MSE/PE: dist/btpeer and libtorrent", () => {
  let dir = "";
  let source = "";
  let torrent = "";
  let binary = "";
  beforeAll(async () => {
    binary = ensureBinary();
    dir = makeTempDir("btpeer-mse-lt-");
    source = path.join(dir, "seed", "data.bin");
    makeRandomFile(source, 700_000, 21);
    torrent = await makeTorrent(source, path.join(dir, "data.torrent"), { pieceLength: 65536 });
  }, 120_000);
  afterAll(async () => {
    await stopAllServices();
    removeDir(dir);
  }, 30_000);

  const connected = (peer: Btpeer) => peer.events().filter(isEvent("peer-connected"));

  for (const [encryption, encLevel, expected] of [
    ["forced", "rc4", "mse-rc4"],
    ["forced", "plaintext", "mse-plaintext"],
    ["disabled", undefined, "none"],
  ] as const) {
    test(`btpeer (prefer) downloads everything from a libtorrent seeder with encryption ${encryption}${encLevel ? ` (${encLevel})` : ""}: connected through ${expected}`, async () => {
      const seeder = await startLtPeer({
        mode: "seed",
        torrent,
        dir: path.dirname(source),
        noTrackers: true,
        encryption,
        encLevel,
        name: `lt seed ${encryption}`,
      });
      const out = path.join(dir, `from-lt-${encryption}-${encLevel}`);
      try {
        const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", seeder.address], { binary, name: "btpeer leecher" });
        await leecher.waitFor(isEvent("completed"), 90_000);
        expect(await leecher.service.exited).toBe(0);
        expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
        const ours = connected(leecher).filter((e) => e.outgoing === true);
        expect(ours.length).toBeGreaterThan(0);
        expect(ours.every((e) => e.encryption === expected)).toBe(true);
      } finally {
        await seeder.stop();
      }
    }, 120_000);
  }

  for (const [encLevel, expected] of [
    ["rc4", "mse-rc4"],
    ["both", "mse-plaintext"], // offered both, we select plaintext (shared/mse/policy.ts)
  ] as const) {
    test(`a libtorrent leecher forcing MSE (${encLevel}) downloads everything from a btpeer seeder (prefer): taken at once through ${expected}`, async () => {
      const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { binary, name: "btpeer seeder" });
      const out = path.join(dir, `to-lt-${encLevel}`);
      try {
        const leecher = await startLtPeer({
          mode: "download",
          torrent,
          dir: out,
          noTrackers: true,
          peers: [seeder.address],
          encryption: "forced",
          encLevel,
          timeoutS: 90,
        });
        await leecher.finished();
        expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
        const kinds = connected(seeder).map((e) => [e.outgoing, e.encryption]);
        expect(kinds.length).toBeGreaterThan(0);
        expect(kinds.every(([outgoing, kind]) => outgoing === false && kind === expected)).toBe(true);
        expect(seeder.events().filter(isEvent("incoming-dropped"))).toEqual([]);
      } finally {
        await seeder.stop();
      }
    }, 120_000);
  }

  for (const [policy, lt, why] of [
    ["require", { encryption: "disabled" }, "a plain BitTorrent handshake under --encryption require"],
    ["disable", { encryption: "forced", encLevel: "rc4" }, "an MSE handshake under --encryption disable"],
  ] as const) {
    test(`a btpeer seeder under --encryption ${policy} refuses a libtorrent leecher with encryption ${lt.encryption}`, async () => {
      const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source), "--encryption", policy], { binary, name: `btpeer seeder ${policy}` });
      try {
        const leecher = await startLtPeer({
          mode: "download",
          torrent,
          dir: path.join(dir, `refused-${policy}`),
          noTrackers: true,
          peers: [seeder.address],
          timeoutS: 60,
          ...(lt as Partial<LtPeerOptions>),
        });
        const refused = await seeder.waitFor((e) => e.event === "incoming-dropped" && e.code === "encryption-policy", 60_000);
        expect(String(refused.reason)).toContain(why);
        expect(connected(seeder)).toEqual([]);
        await leecher.stop();
      } finally {
        await seeder.stop();
      }
    }, 120_000);
  }
});
