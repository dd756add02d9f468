// A real `dist/btpeer daemon` whose torrents' only tracker is a UDP one that fails: a closed loopback port
// (the kernel answers each datagram with an ICMP port unreachable) or a socket that takes every datagram and
// never answers. Before, the refusal came up as an uncaught ECONNREFUSED that made the daemon exit 1 when
// stopped, and the tracker was said to be updating until the retransmission schedule ran out; and a stop
// with an announce to the silent tracker under way overran the harness's 15 s grace and was killed (awake:
// the announce's retransmission timers kept the process alive after `daemon-stopped`; dormant: `stopped`
// waited for the announce, 45 s). Now the refusal is that tracker's error, said through the API, and a stop
// calls off what is under way, sends its `stopped` (3 s each) and exits 0.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { udp } from "bun";
import fs from "node:fs";
import path from "node:path";
import type { TorrentDetail } from "../../peer/daemon/control.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { infoHashHex, mktorrent } from "../support/torrents.ts";
import { until } from "../support/until.ts";
import { type ApiDaemon, requireBinary, startApiDaemon } from "./daemon-api-harness.ts";

let dir = "";
let silent: udp.Socket<"uint8array"> | undefined;
/** Datagrams the silent tracker took (connect requests: it never answers one). */
let heard = 0;

beforeAll(async () => {
  requireBinary();
  dir = makeTempDir("btpeer-daemon-udp-stop-");
  silent = await Bun.udpSocket({ hostname: "127.0.0.1", binaryType: "uint8array", socket: { data: () => void heard++ } });
}, 60_000);

afterAll(async () => {
  silent?.close();
  await stopAllServices();
  if (dir) removeDir(dir);
}, 60_000);

/** A closed UDP port on loopback: bound by the system's choice, noted, closed. */
async function closedUdpPort(): Promise<number> {
  const probe = await Bun.udpSocket({ hostname: "127.0.0.1" });
  const port = probe.port;
  probe.close();
  return port;
}

/** A torrent of one file whose only tracker is `tracker`; its data is in place (savePath), so it seeds. */
function seedable(name: string, tracker: string, seed: number): { body: string; hex: string; savePath: string } {
  const savePath = path.join(dir, "data");
  makeRandomFile(path.join(savePath, name, "a.bin"), 100_000, seed);
  const file = mktorrent({ source: path.join(savePath, name), out: path.join(dir, `${name}.torrent`), trackers: [tracker], pieceLength: 32 * 1024 });
  const body = JSON.stringify({ torrent: fs.readFileSync(file).toString("base64"), savePath });
  return { body, hex: infoHashHex(file), savePath };
}

async function trackerOf(daemon: ApiDaemon, hex: string): Promise<TorrentDetail["trackers"][number]> {
  const detail = await daemon.json<TorrentDetail>("GET", `/api/v1/torrents/${hex}`, 200);
  return detail.trackers[0]!;
}

async function untilAsync(what: () => Promise<boolean>, label: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await what()) return;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${label}`);
}

test("a UDP tracker on a closed port is that tracker's error (connection refused), not an uncaught one; the stop exits 0", async () => {
  const url = `udp://127.0.0.1:${await closedUdpPort()}/announce`;
  const torrent = seedable("refused", url, 1);
  const daemon = await startApiDaemon();
  let code: number | null = null;
  try {
    await daemon.json("POST", "/api/v1/torrents", 201, { body: torrent.body, headers: { "content-type": "application/json" } });
    await untilAsync(async () => (await trackerOf(daemon, torrent.hex)).status === "error", "the tracker's error");
    const tracker = await trackerOf(daemon, torrent.hex);
    expect(tracker.url).toBe(url);
    expect(tracker.lastError).toContain("connection refused");
    expect(daemon.service.hasExited).toBe(false);
  } finally {
    code = await daemon.stop();
  }
  expect(daemon.service.errLines.join("\n")).not.toContain("ECONNREFUSED");
  expect(code).toBe(0);
}, 120_000);
test("a UDP tracker that never answers: the daemon stops with exit 0 while an awake and then a dormant torrent's announce is under way", async () => {
  const url = `udp://127.0.0.1:${silent!.port}/announce`;
  const torrent = seedable("silent", url, 2);
  let daemon = await startApiDaemon();
  const codes: number[] = [];
  try {
    await daemon.json("POST", "/api/v1/torrents", 201, { body: torrent.body, headers: { "content-type": "application/json" } });
    // Awake: its `started` is under way (the tracker took the connect and will never answer).
    await until(() => heard > 0, "the silent tracker hearing the awake torrent", { tries: 600, everyMs: 50 });
    await untilAsync(async () => (await trackerOf(daemon, torrent.hex)).status === "updating", "the awake announce under way");
    await untilAsync(async () => (await daemon.json<TorrentDetail>("GET", `/api/v1/torrents/${torrent.hex}`, 200)).state === "seeding", "seeding");
    // Restarted, the complete torrent starts dormant: the client's scheduler sends its `started`.
    const before = heard;
    const restarted = daemon.restart();
    codes.push(await daemon.service.exited);
    daemon = await restarted;
    await until(() => heard > before, "the silent tracker hearing the dormant torrent", { tries: 600, everyMs: 50 });
    await untilAsync(async () => (await trackerOf(daemon, torrent.hex)).status === "updating", "the dormant announce under way");
  } finally {
    codes.push(await daemon.stop());
  }
  expect(codes).toEqual([0, 0]);
}, 180_000);
