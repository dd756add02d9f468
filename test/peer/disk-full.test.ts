// `btpeer download` into a folder on a filesystem too small for the torrent (a 2 MiB tmpfs, mounted for
// the test, which needs root or CAP_SYS_ADMIN): exit code 4 with one clear line, `stopped` announced,
// and no piece counted as had that is not verified on disk.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { decode, type BDict } from "../../shared/bencode.ts";
import { decodeCompactPeers } from "../../shared/compact.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { verifyExisting } from "../../peer/storage/index.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { CLI, isEvent, makeTorrent, startBtpeer, startTracker, type Btpeer, type Tracker } from "./btpeer-harness.ts";

const dir = makeTempDir("btpeer-disk-full-");
const small = path.join(dir, "small-fs");
fs.mkdirSync(small);
const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", small], { stdout: "pipe", stderr: "pipe" });
const canMount = mounted.exitCode === 0;
if (!canMount) {
  console.warn(`skipping the full-disk test: cannot mount a 2 MiB tmpfs (needs root or CAP_SYS_ADMIN): ${mounted.stderr.toString().trim()}`);
}

let tracker: Tracker;
let seeder: Btpeer;
let torrent = "";
let meta: Metainfo;

beforeAll(async () => {
  if (!canMount) return;
  tracker = await startTracker();
  const source = path.join(dir, "src", "data.bin");
  makeRandomFile(source, 6 * 1024 * 1024 + 99, 71); // three times what the filesystem holds
  torrent = await makeTorrent(source, path.join(dir, "data.torrent"), { trackers: [tracker.announce], pieceLength: 64 * 1024 });
  meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
  seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { name: "seeder" });
});

afterAll(async () => {
  await stopAllServices();
  // Lazily if something still holds it: the mount must never outlive the test.
  if (canMount && Bun.spawnSync(["umount", small]).exitCode !== 0) Bun.spawnSync(["umount", "-l", small]);
  removeDir(dir);
}, 30_000);

function emptySmallFs(): void {
  for (const entry of fs.readdirSync(small)) fs.rmSync(path.join(small, entry), { recursive: true, force: true });
}

/** Which ports the tracker lists for this torrent now (a probe announce that leaves again). */
async function swarmPorts(): Promise<number[]> {
  let hash = "";
  for (const b of meta.infoHash) hash += `%${b.toString(16).padStart(2, "0")}`;
  const query = `info_hash=${hash}&peer_id=-XX0000-diskfull-prb&port=1&uploaded=0&downloaded=0&left=1&compact=1&numwant=50`;
  const reply = decode(new Uint8Array(await (await fetch(`${tracker.announce}?${query}&event=started`)).arrayBuffer())) as BDict;
  await fetch(`${tracker.announce}?${query}&event=stopped`);
  return reply.peers instanceof Uint8Array ? decodeCompactPeers(reply.peers, 4).map((p) => p.port) : [];
}

describe.skipIf(!canMount)("btpeer download onto a full disk", () => {
  test("exits with code 4 and one clear line on stderr", async () => {
    emptySmallFs();
    const proc = Bun.spawn([process.execPath, CLI, "download", torrent, "--out", path.join(small, "out"), "--no-seed", "--port", String(freePort())], {
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
      timeout: 90_000,
      killSignal: "SIGKILL",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(4);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^btpeer: disk full while writing .*: free some space and run again$/);
    expect(stdout).toMatch(/stopped: /); // shut down in order, not crashed
    expect(stdout).not.toMatch(/complete: /);
  }, 120_000);

  test("with --json: an error event, stopped announced, and every piece counted as had is verified on disk", async () => {
    emptySmallFs();
    const out = path.join(small, "out");
    const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed"], { name: "leecher onto a full disk" });
    const error = await leecher.waitFor(isEvent("error"), 90_000);
    expect(error.code).toBe("disk-full");
    expect(await leecher.service.exited).toBe(4);
    const events = leecher.events();
    expect(events.some(isEvent("completed"))).toBe(false);
    const stopped = leecher.last("stopped");
    expect(stopped).toBeDefined();
    const claimed = Number(stopped!.have);
    expect(claimed).toBeLessThan(meta.pieceCount);
    // Whatever the session said it had must be really there: verify the folder as a fresh run would.
    const onDisk = await verifyExisting(meta, out);
    expect(onDisk.count()).toBeGreaterThanOrEqual(claimed);
    // The leecher said `stopped` to the tracker: only the seeder is left in the swarm.
    expect(await swarmPorts()).toEqual([seeder.port]);
  }, 120_000);
});
