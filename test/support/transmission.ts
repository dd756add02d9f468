// A real Transmission (transmission-cli) on loopback. Its settings.json, written into its own config
// directory, turns DHT, local peer discovery, PEX and port mapping off and binds it to 127.0.0.1, so
// it meets exactly the peers the torrent's tracker names. Transmission 3.00 never dials a peer at a
// loopback address that a tracker handed it (it counts 127.0.0.0/8 as a "martian" address; only
// incoming, LPD and resumed peers may be there), so on loopback it can only be the seeder that others
// dial: give it a folder that already holds the data. `-f` runs a script when a download finishes,
// which leaves a file `finished()` waits for.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { freePort } from "./ports.ts";
import { spawnService, type Service } from "./processes.ts";

/** What every Transmission the tests and benches start shares: loopback only; no DHT, local discovery,
 *  PEX, uTP or port mapping; no speed or ratio limits. */
export function loopbackSettings(peerPort: number): Record<string, unknown> {
  return {
    "dht-enabled": false,
    "lpd-enabled": false,
    "pex-enabled": false,
    "utp-enabled": false,
    "port-forwarding-enabled": false,
    "bind-address-ipv4": "127.0.0.1",
    "peer-port": peerPort,
    "speed-limit-down-enabled": false,
    "speed-limit-up-enabled": false,
    "ratio-limit-enabled": false,
    "message-level": 1,
  };
}

/** Transmission's RPC on loopback: the X-Transmission-Session-Id handshake (a 409 names the id), then the call. */
export class TransmissionRpc {
  private session = "";
  constructor(private readonly port: number) {}

  async call(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await fetch(`http://127.0.0.1:${this.port}/transmission/rpc`, {
        method: "POST",
        headers: { "X-Transmission-Session-Id": this.session },
        body: JSON.stringify({ method, arguments: args }),
      });
      if (res.status === 409) {
        this.session = res.headers.get("X-Transmission-Session-Id") ?? "";
        continue;
      }
      const reply = (await res.json()) as { result: string; arguments: Record<string, unknown> };
      if (reply.result !== "success") throw new Error(`transmission ${method}: ${reply.result}`);
      return reply.arguments;
    }
    throw new Error(`transmission ${method}: no session id`);
  }
}

export interface TransmissionPeer {
  service: Service;
  port: number;
  /** Resolves once Transmission says the download is complete (and verified: it checks every piece). */
  finished(timeoutMs?: number): Promise<void>;
  stop(): Promise<number>;
}

/** `dir` is the download folder; with the data already in it, Transmission checks it and seeds. */
export async function startTransmissionCli(options: { torrent: string; dir: string; configDir: string; name?: string }): Promise<TransmissionPeer> {
  const port = freePort();
  const name = options.name ?? "transmission-cli";
  mkdirSync(options.configDir, { recursive: true });
  mkdirSync(options.dir, { recursive: true });
  const settings = { ...loopbackSettings(port), "rpc-enabled": false, "blocklist-enabled": false };
  writeFileSync(path.join(options.configDir, "settings.json"), JSON.stringify(settings, null, 1));
  const doneFile = path.join(options.configDir, "finished");
  const script = path.join(options.configDir, "on-finish.sh");
  writeFileSync(script, `#!/bin/sh\ntouch '${doneFile}'\n`, { mode: 0o755 });
  const service = await spawnService({
    name,
    cmd: ["transmission-cli", "-g", options.configDir, "-w", options.dir, "-p", String(port), "-D", "-U", "-M", "-f", script, options.torrent],
    graceMs: 5000,
  });
  return {
    service,
    port,
    async finished(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      while (!existsSync(doneFile)) {
        if (service.hasExited) throw new Error(`${name} exited before finishing\n${service.output()}`);
        if (Date.now() > deadline) throw new Error(`${name} did not finish within ${timeoutMs} ms (safety deadline)\n${service.output()}`);
        await Bun.sleep(200);
      }
    },
    stop: () => service.stop(),
  };
}
