// A --peer that is not there yet when btpeer first dials it: refused, or hung up on before any handshake.
// btpeer's dialer backs the address off and dials it again, so once a libtorrent seeder listens on that
// port btpeer connects and completes. Each seeder starts only after btpeer's debug log (BTPEER_DEBUG)
// showed the failed dials, so the order is certain and no timing is assumed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { startLtPeer } from "../support/libtorrent.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { until } from "../support/until.ts";
import { isEvent, makeTorrent, startBtpeer, type Btpeer } from "./btpeer-harness.ts";

let dir = "";
let torrent = "";
let source = "";

/** Waits until btpeer's stderr has a line matching `pattern` (BTPEER_DEBUG's dial and close lines). */
const logged = (peer: Btpeer, pattern: RegExp) => until(() => peer.service.errLines.some((l) => pattern.test(l)), `btpeer to log ${pattern}`, { tries: 3000 });

describe.skipIf(!needs(PROGRAMS.libtorrent))("dialling a --peer that is not there yet", () => {
  beforeAll(async () => {
    dir = makeTempDir("btpeer-dial-retry-");
    source = path.join(dir, "src", "data.bin");
    makeRandomFile(source, 1024 * 1024 + 77, 83);
    torrent = await makeTorrent(source, path.join(dir, "data.torrent"), { pieceLength: 64 * 1024 });
  });
  afterAll(async () => {
    await stopAllServices();
    removeDir(dir);
  }, 30_000);

  test("refused at first: once a libtorrent seeder listens on that port, btpeer dials again and completes", async () => {
    const port = freePort();
    const out = path.join(dir, "refused-out");
    const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", `127.0.0.1:${port}`], { env: { BTPEER_DEBUG: "1" } });
    await logged(leecher, new RegExp(`^dial 127\\.0\\.0\\.1:${port} .*failed: .*ECONNREFUSED`));
    const lt = await startLtPeer({ mode: "seed", torrent, dir: path.join(dir, "src"), port, noTrackers: true });
    await lt.whileRunning(leecher.waitFor(isEvent("completed"), 60_000));
    expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
    await lt.stop();
  }, 90_000);

  test("hung up on before any handshake, MSE and plain: once a libtorrent seeder takes the port, btpeer dials again and completes", async () => {
    const port = freePort();
    let accepted = 0;
    // Takes each connection and closes it at once, as a peer that is shutting down or full would.
    const hangUp = Bun.listen({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(socket) {
          accepted++;
          socket.end();
        },
        data() {},
      },
    });
    const out = path.join(dir, "hung-up-out");
    const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", `127.0.0.1:${port}`], { env: { BTPEER_DEBUG: "1" } });
    // The MSE dial fails, the plain retry follows at once and is closed too (by the peer, or reset if our
    // handshake crossed its close): then the address backs off.
    await logged(leecher, new RegExp(`^dial 127\\.0\\.0\\.1:${port} \\(mse\\) failed: MSE handshake failed`));
    await logged(leecher, new RegExp(`^peer 127\\.0\\.0\\.1:${port} closed: `));
    hangUp.stop(true);
    expect(accepted).toBeGreaterThanOrEqual(2);
    const lt = await startLtPeer({ mode: "seed", torrent, dir: path.join(dir, "src"), port, noTrackers: true });
    await lt.whileRunning(leecher.waitFor(isEvent("completed"), 60_000));
    expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
    await lt.stop();
  }, 90_000);
});
