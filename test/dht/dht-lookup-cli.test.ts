// `btpeer dht-lookup` as a real process against a small DHT of our nodes on loopback: it finds an
// announced peer, saves its routing table, and a second run starts from that table alone (its only
// bootstrap address is a dead loopback port) and announces. BTPEER_DHT_LOOPBACK_ONLY=1 makes the
// process's node throw on any destination off this machine.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { toHex } from "../../shared/bytes.ts";
import type { DhtNode } from "../../peer/dht/node.ts";
import { randomId } from "../../peer/dht/node-id.ts";
import { BTPEER } from "../support/btpeer.ts";
import { startLoopbackDht } from "../support/loopback-dht.ts";

const dir = mkdtempSync(path.join(tmpdir(), "dht-cli-"));
const nodes: DhtNode[] = [];
afterAll(() => {
  nodes.forEach((n) => n.close());
  rmSync(dir, { recursive: true, force: true });
});

async function btpeer(args: string[], binary: string[] = BTPEER) {
  const proc = Bun.spawn([...binary, "dht-lookup", ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, BTPEER_DHT_LOOPBACK_ONLY: "1" } });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

const infoHash = randomId();

beforeAll(async () => {
  await startLoopbackDht(nodes, 5);
  await nodes[0]!.bootstrap();
  await nodes[3]!.announce(infoHash, 5555);
});

test("dht-lookup finds an announced peer, saves its table, and a second run rejoins from it and announces", async () => {
  const state = path.join(dir, "dht.state");
  const first = await btpeer([toHex(infoHash), "--dht-bootstrap", `127.0.0.1:${nodes[0]!.port(4)}`, "--dht-state", state, "--json"]);
  expect(first.stderr).toBe("");
  expect(first.exitCode).toBe(0);
  const out = JSON.parse(first.stdout);
  expect(out).toMatchObject({ infoHash: toHex(infoHash), source: "routers" });
  expect(out.peers).toContain("127.0.0.1:5555");
  expect(existsSync(state)).toBe(true);

  const second = await btpeer([
    `magnet:?xt=urn:btih:${toHex(infoHash)}`,
    "--dht-bootstrap",
    "127.0.0.1:1",
    "--dht-state",
    state,
    "--announce",
    "6000",
    "--json",
  ]);
  expect(second.exitCode).toBe(0);
  const again = JSON.parse(second.stdout);
  expect(again.source).toBe("saved");
  expect(again.announcedTo).toBeGreaterThanOrEqual(1);
  expect(await nodes[1]!.getPeers(infoHash)).toContainEqual({ ip: "127.0.0.1", port: 6000 });
}, 60_000);

test("dht-lookup: exit 6 when no node answers, 2 on a bad info hash", async () => {
  const none = await btpeer([toHex(randomId()), "--dht-bootstrap", "127.0.0.1:1"]);
  expect(none.exitCode).toBe(6);
  expect(none.stderr).toContain("no DHT node answered");
  const bad = await btpeer(["xyz", "--dht-bootstrap", "127.0.0.1:1"]);
  expect(bad.exitCode).toBe(2);
}, 30_000);

test("the compiled binary, with no node_modules beside it, finds the announced peer", async () => {
  const bin = path.join(dir, "bin", "btpeer");
  mkdirSync(path.dirname(bin), { recursive: true });
  const built = path.join(import.meta.dir, "..", "..", "dist", "btpeer");
  if (existsSync(built)) copyFileSync(built, bin);
  else {
    const root = path.join(import.meta.dir, "..", "..");
    const r = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", path.join(root, "peer/cli.ts"), "--outfile", bin], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(r.exitCode).toBe(0);
  }
  chmodSync(bin, 0o755);
  const r = await btpeer([toHex(infoHash), "--dht-bootstrap", `127.0.0.1:${nodes[0]!.port(4)}`], [bin]);
  expect(r.exitCode).toBe(0);
  expect(r.stdout.split("\n")).toContain("127.0.0.1:5555");
}, 60_000);
