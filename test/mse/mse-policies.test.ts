// --encryption between two real btpeers (dist/btpeer), every pair of policies: a leecher under each
// policy dials a seeder under each. The pairs that may connect do, and through what the policies select
// (MSE with a plaintext payload under prefer/prefer, RC4 as soon as one side requires it, plain BitTorrent
// when either disables MSE; prefer→disable gets there by falling back from a refused MSE handshake); both
// ends report the same kind. The two pairs that must not (require→disable, disable→require) do not: the
// seeder drops the connection as the policy says, and neither side ever takes the other as a peer.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import type { EncryptionPolicy } from "../../shared/mse/policy.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { isEvent, makeTorrent, startBtpeer, type Btpeer, type BtpeerEvent } from "../peer/btpeer-harness.ts";
import { ensureBinary } from "./btpeer-binary.ts";

type Expected = { connects: true; encryption: "none" | "mse-plaintext" | "mse-rc4" } | { connects: false };

/** [leecher, seeder] → what happens when the leecher dials the seeder. */
const MATRIX: [EncryptionPolicy, EncryptionPolicy, Expected][] = [
  ["prefer", "prefer", { connects: true, encryption: "mse-plaintext" }],
  ["prefer", "require", { connects: true, encryption: "mse-rc4" }],
  ["prefer", "disable", { connects: true, encryption: "none" }],
  ["require", "prefer", { connects: true, encryption: "mse-rc4" }],
  ["require", "require", { connects: true, encryption: "mse-rc4" }],
  ["require", "disable", { connects: false }],
  ["disable", "prefer", { connects: true, encryption: "none" }],
  ["disable", "require", { connects: false }],
  ["disable", "disable", { connects: true, encryption: "none" }],
];

let dir = "";
let source = "";
let torrent = "";
let binary = "";
const seeders = new Map<EncryptionPolicy, Btpeer>();

beforeAll(async () => {
  binary = ensureBinary();
  dir = makeTempDir("btpeer-mse-policies-");
  source = path.join(dir, "seed", "data.bin");
  makeRandomFile(source, 600_000, 17);
  torrent = await makeTorrent(source, path.join(dir, "data.torrent"), { pieceLength: 32768 });
  for (const policy of ["prefer", "require", "disable"] as const) {
    seeders.set(policy, await startBtpeer(["seed", torrent, "--dir", path.dirname(source), "--encryption", policy], { binary, name: `seeder ${policy}` }));
  }
}, 120_000);

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

const after = (events: BtpeerEvent[], from: number, kind: string) => events.slice(from).filter(isEvent(kind));

describe("btpeer ↔ btpeer under each pair of --encryption policies", () => {
  for (const [leech, seed, expected] of MATRIX) {
    test(`a leecher under ${leech} dialling a seeder under ${seed} ${expected.connects ? `connects (${expected.encryption}) and downloads` : "is refused"}`, async () => {
      const seeder = seeders.get(seed)!;
      const seen = seeder.events().length;
      const out = path.join(dir, `out-${leech}-${seed}`);
      const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", seeder.address, "--encryption", leech], {
        binary,
        name: `leecher ${leech}→${seed}`,
      });
      try {
        if (expected.connects) {
          await leecher.waitFor(isEvent("completed"), 60_000);
          expect(await leecher.service.exited).toBe(0);
          expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
          const ours = leecher.events().filter(isEvent("peer-connected"));
          expect(ours.map((e) => [e.outgoing, e.encryption])).toEqual([[true, expected.encryption]]);
          const theirs = after(seeder.events(), seen, "peer-connected");
          expect(theirs.map((e) => [e.outgoing, e.encryption])).toEqual([[false, expected.encryption]]);
        } else {
          // The seeder says why it dropped the dial; by then neither side has taken the other as a peer.
          const why = leech === "require" ? "an MSE handshake under --encryption disable" : "a plain BitTorrent handshake under --encryption require";
          const refusals = () => after(seeder.events(), seen, "incoming-dropped").filter((e) => e.code === "encryption-policy");
          await seeder.waitFor(() => refusals().length > 0, 60_000);
          expect(String(refusals()[0]!.reason)).toContain(why);
          expect(after(seeder.events(), seen, "peer-connected")).toEqual([]);
          expect(leecher.events().filter(isEvent("peer-connected"))).toEqual([]);
          expect(leecher.last("progress")?.downloaded ?? 0).toBe(0);
        }
      } finally {
        await leecher.stop();
      }
    }, 90_000);
  }
});
