// A connection accepted from this host is not paced by TCP: the seeder's listener has reno before any
// connection arrives, so its accepted sockets never run BBR (which marks a socket paced for good and then
// arms a timer for about every other segment). A connection accepted from elsewhere gets the system's
// own congestion control back. A real btpeer seeder; its sockets are read with `ss -ti` (the congestion
// control's name leads the info line), its own process's sockets only.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { networkInterfaces } from "node:os";
import { removeDir } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { type Btpeer, startRandomFileSeeder } from "./btpeer-harness.ts";

/** The congestion control of each established socket the seeder's process holds on its port. */
function congestionControls(port: number, pid: number): string[] {
  const out = Bun.spawnSync(["ss", "-tinpH", "state", "established", `( sport = :${port} )`]).stdout.toString();
  const sockets = out.split(/\n(?=\S)/);
  return sockets.filter((s) => s.includes(`pid=${pid},`)).flatMap((s) => [...s.matchAll(/^\s+(\w+) wscale/gm)].map((m) => m[1]!));
}

/** Connects to the seeder from `from` and returns the congestion control of the seeder's end once it holds it. */
async function acceptedWith(seeder: Btpeer, host: string): Promise<string[]> {
  const client = await Bun.connect({ hostname: host, port: seeder.port, socket: { data() {} } });
  try {
    let seen: string[] = [];
    for (let i = 0; i < 200 && seen.length === 0; i++) {
      await Bun.sleep(10);
      seen = congestionControls(seeder.port, seeder.service.pid);
    }
    await Bun.sleep(100); // past the turn that accepted it (the system's own is given back in `open`)
    return congestionControls(seeder.port, seeder.service.pid);
  } finally {
    client.end();
    for (let i = 0; i < 200 && congestionControls(seeder.port, seeder.service.pid).length > 0; i++) await Bun.sleep(10);
  }
}

/** An IPv4 address of this machine that is not loopback, or null. */
function otherAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) for (const info of list ?? []) if (info.family === "IPv4" && !info.internal) return info.address;
  return null;
}

const systemDefault = fs.existsSync("/proc/sys/net/ipv4/tcp_congestion_control")
  ? fs.readFileSync("/proc/sys/net/ipv4/tcp_congestion_control", "utf8").trim()
  : null;

describe.skipIf(process.platform !== "linux" || systemDefault === null || !needs(PROGRAMS.ss))("congestion control of a seeder's accepted connections", () => {
  let dir: string;
  let seeder: Btpeer;

  beforeAll(async () => {
    ({ dir, seeder } = await startRandomFileSeeder("local-pacing-", 4 * 1024 * 1024, 71));
  }, 60_000);
  afterAll(async () => {
    await stopAllServices();
    if (dir) removeDir(dir);
  }, 30_000);

  test("a connection from this host gets reno, never the system's paced one", async () => {
    expect(await acceptedWith(seeder, "127.0.0.1")).toEqual(["reno"]);
  }, 30_000);

  test.skipIf(otherAddress() === null)(
    "a connection from another address gets the system's own",
    async () => {
      expect(await acceptedWith(seeder, otherAddress()!)).toEqual([systemDefault!]);
    },
    30_000,
  );
});
