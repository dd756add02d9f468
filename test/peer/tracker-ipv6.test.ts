// The tracker client's IPv6 path end to end (BEP 7): our tracker listening on ::1 only, a btpeer seeder and
// leecher announcing to http://[::1]:PORT/announce, so the leecher can learn the seeder only from `peers6`.
import { afterAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { decode, type BDict } from "../../shared/bencode.ts";
import { decodeCompactPeers } from "../../shared/compact.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { spawnService, stopAllServices } from "../support/processes.ts";
import { needs } from "../support/system.ts";
import { isEvent, makeTorrent, ROOT, startBtpeer } from "./btpeer-harness.ts";

function ipv6LoopbackBindable(): boolean {
  try {
    const probe = Bun.listen({ hostname: "::1", port: 0, socket: { data() {} } });
    probe.stop(true);
    return true;
  } catch {
    return false;
  }
}

const IPV6_LOOPBACK = {
  label: "an IPv6 loopback (::1)",
  probe: ipv6LoopbackBindable,
  install: "sudo sysctl -w net.ipv6.conf.lo.disable_ipv6=0 (or run the container with IPv6 enabled)",
};

let dir = "";

afterAll(async () => {
  await stopAllServices();
  if (dir) removeDir(dir);
}, 30_000);

describe.skipIf(!needs(IPV6_LOOPBACK))("btpeer over IPv6 through our tracker", () => {
  test("a leecher finds the seeder only in the tracker's peers6 and downloads over ::1", async () => {
    dir = makeTempDir("btpeer-ipv6-");
    const port = freePort();
    const tracker = await spawnService({
      name: "tracker on ::1",
      cmd: [process.execPath, path.join(ROOT, "edge/adapter/bun.ts")],
      env: { PORT: String(port), HOST: "::1", UPSTASH_REDIS_REST_URL: undefined, UPSTASH_REDIS_REST_TOKEN: undefined },
      ready: { port, host: "::1" },
    });
    const announce = `http://[::1]:${port}/announce`;
    const source = path.join(dir, "src", "data.bin");
    makeRandomFile(source, 2 * 1024 * 1024 + 4321, 61);
    const torrent = await makeTorrent(source, path.join(dir, "v6.torrent"), { trackers: [announce], pieceLength: 32 * 1024 });
    const meta = parseMetainfo(await Bun.file(torrent).bytes());

    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { name: "v6 seeder" });
    await seeder.waitFor(isEvent("tracker"), 30_000);

    // What the tracker hands out for this torrent: the seeder in peers6 (from ::1), nothing in peers.
    const query = `info_hash=${escapeBytes(meta.infoHash)}&peer_id=-XX0000-ipv6-probe00&port=1&uploaded=0&downloaded=0&left=1&compact=1&numwant=50&event=stopped`;
    const probe = decode(new Uint8Array(await (await fetch(`${announce}?${query.replace("event=stopped", "event=started")}`)).arrayBuffer())) as BDict;
    const v4 = probe.peers instanceof Uint8Array ? decodeCompactPeers(probe.peers, 4) : [];
    const v6 = probe.peers6 instanceof Uint8Array ? decodeCompactPeers(probe.peers6, 6) : [];
    await fetch(`${announce}?${query}`); // leave the swarm again
    expect(v4).toEqual([]);
    expect(v6).toContainEqual({ ip: "::1", port: seeder.port });

    const out = path.join(dir, "out");
    const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed"], { name: "v6 leecher" });
    try {
      const heard = await leecher.waitFor((e) => e.event === "tracker" && Number(e.peers) > 0, 30_000);
      expect(heard.tracker).toBe(announce);
      const done = await leecher.waitFor(isEvent("completed"), 60_000);
      expect(done.have).toBe(meta.pieceCount);
      expect(await leecher.service.exited).toBe(0);
      expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
      // The bytes came from the seeder, which the leecher could only have reached over IPv6.
      const served = await seeder.waitFor((e) => e.event === "progress" && Number(e.uploaded) >= meta.length, 10_000);
      expect(Number(served.uploaded)).toBeGreaterThanOrEqual(meta.length);
    } finally {
      await leecher.stop();
      await seeder.stop();
      await tracker.stop();
    }
  }, 120_000);
});

function escapeBytes(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += `%${b.toString(16).padStart(2, "0")}`;
  return s;
}
