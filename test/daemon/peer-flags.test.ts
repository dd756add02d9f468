// The daemon's peer view flags a connection that came through an MSE/PE handshake with 'E' (as qBittorrent
// does, whatever payload it selected) and a plain one without: a Daemon in this process (--encryption
// require, then disable) and a real btpeer seeder dialling in; the flags are read when the peer is taken.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { EncryptionPolicy } from "../../shared/mse/policy.ts";
import type { DaemonEvent } from "../../peer/daemon/control.ts";
import { Daemon } from "../../peer/daemon/service.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { makeTorrent, startBtpeer } from "../peer/btpeer-harness.ts";

let dir = "";
let torrent = "";
let bytes: Uint8Array;
let hex = "";

beforeAll(async () => {
  dir = makeTempDir("btpeer-daemon-flags-");
  makeRandomFile(path.join(dir, "src", "data.bin"), 400_000, 8);
  torrent = await makeTorrent(path.join(dir, "src", "data.bin"), path.join(dir, "data.torrent"), { pieceLength: 32 * 1024 });
  bytes = new Uint8Array(fs.readFileSync(torrent));
  hex = Buffer.from(parseMetainfo(bytes).infoHash).toString("hex");
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

for (const [policy, kind, encrypted] of [
  ["require", "mse-rc4", true],
  ["disable", "none", false],
] as const satisfies readonly [EncryptionPolicy, string, boolean][]) {
  test(`--encryption ${policy}: a seeder's connection is ${kind}, and its flags ${encrypted ? "carry" : "lack"} 'E'`, async () => {
    const daemon = Daemon.open({
      stateDir: path.join(dir, `state-${policy}`),
      downloadDir: path.join(dir, `dl-${policy}`),
      port: 0,
      bind: "127.0.0.1",
      encryption: policy,
      log: () => {},
    });
    const seen: { event: DaemonEvent; flags: string[] }[] = [];
    let taken = () => {};
    const peerTaken = new Promise<void>((resolve) => (taken = resolve));
    daemon.subscribe((event) => {
      if (event.event !== "peer-connected") return;
      seen.push({ event, flags: daemon.get(hex).peerList.map((p) => p.flags) });
      taken();
    });
    try {
      expect(await daemon.add({ source: { torrent: bytes } })).toBe(hex);
      const seeder = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "src"), "--peer", `127.0.0.1:${daemon.port}`], {
        name: `seeder for ${policy}`,
      });
      await peerTaken;
      expect(seen[0]!.event).toMatchObject({ outgoing: false, encryption: kind });
      expect(seen[0]!.flags).toHaveLength(1);
      expect(seen[0]!.flags[0]!.includes("E")).toBe(encrypted);
      expect(seen[0]!.flags[0]).toContain("I");
      await seeder.stop();
    } finally {
      await daemon.close();
    }
  }, 60_000);
}
