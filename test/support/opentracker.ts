// A real opentracker on loopback, the reference tracker for interoperation tests and benchmarks.
//
// Debian builds opentracker with a whitelist (WANT_ACCESSLIST_WHITE): only listed info hashes are
// served, others get "Requested download is not authorized". It also chroots to -d and, started as
// root, drops to user "nobody" (it refuses to keep running as root), so its directory and whitelist
// must be readable by everyone. -p alone binds TCP only (no UDP port is opened unless -P is given).
import fs from "node:fs";
import path from "node:path";
import { freePort } from "./ports.ts";
import { spawnService, type Service } from "./processes.ts";

export interface Opentracker {
  service: Service;
  port: number;
  /** http://127.0.0.1:PORT/announce */
  announceUrl: string;
  stop(): Promise<number>;
}

/**
 * Starts opentracker on 127.0.0.1 serving exactly `infoHashes` (hex). `dir` must be a directory the
 * caller removes later; it is made world-readable because opentracker reads it as "nobody".
 */
export async function startOpentracker(options: {
  infoHashes: string[];
  dir: string;
  port?: number;
  /** Also serve UDP (BEP 15) on this port (opentracker opens no UDP port unless given one). */
  udpPort?: number;
  /** Put before the command, e.g. ["taskset", "-c", "0"] in benchmarks. */
  wrap?: string[];
}): Promise<Opentracker> {
  const port = options.port ?? freePort();
  fs.mkdirSync(options.dir, { recursive: true });
  fs.chmodSync(options.dir, 0o755);
  const whitelist = path.join(options.dir, "whitelist.txt");
  fs.writeFileSync(whitelist, `${options.infoHashes.map((h) => h.toLowerCase()).join("\n")}\n`, { mode: 0o644 });
  fs.chmodSync(whitelist, 0o644);
  const config = path.join(options.dir, "opentracker.conf");
  // The path is inside the chroot (-d dir).
  fs.writeFileSync(config, "access.whitelist /whitelist.txt\n", { mode: 0o644 });
  const service = await spawnService({
    name: "opentracker",
    cmd: [
      ...(options.wrap ?? []),
      "opentracker",
      "-i",
      "127.0.0.1",
      "-p",
      String(port),
      ...(options.udpPort ? ["-P", String(options.udpPort)] : []),
      "-d",
      options.dir,
      "-f",
      config,
    ],
    cwd: options.dir,
    ready: { port },
  });
  // The whitelist is loaded by a background thread: wait until the first hash is really served.
  const first = options.infoHashes[0];
  if (first) await waitUntilServed(`http://127.0.0.1:${port}/announce`, first, service);
  return { service, port, announceUrl: `http://127.0.0.1:${port}/announce`, stop: () => service.stop() };
}

export function percentEncodeHex(hex: string): string {
  return hex.replace(/../g, (b) => `%${b}`);
}

async function waitUntilServed(announce: string, infoHash: string, service: Service): Promise<void> {
  // event=stopped does not register the probe as a peer, so the swarm stays empty.
  const probe = `${announce}?info_hash=${percentEncodeHex(infoHash)}&peer_id=-PROBE-0000000000000&port=1&uploaded=0&downloaded=0&left=0&event=stopped&compact=1`;
  const deadline = Date.now() + 10_000;
  let last = "";
  while (Date.now() < deadline) {
    const body = await (await fetch(probe)).text();
    if (!body.includes("failure reason") && body.includes("interval")) return;
    last = body;
    await new Promise((r) => setTimeout(r, 50));
  }
  await service.stop();
  throw new Error(`opentracker does not serve ${infoHash} after 10 s (last reply: ${last})\n${service.output()}`);
}
