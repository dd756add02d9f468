// What `btpeer daemon` calls to open its API: the --api address read, the server started with the
// daemon's token. A port in use or an address not of this machine is a ListenError, as for the peer
// port, so the daemon stops with the same exit code and a message naming the API.
import { ListenError } from "../../net/sockets.ts";
import type { DaemonControl } from "../control.ts";
import { type ApiServer, startApiServer } from "./server.ts";

export const DEFAULT_API_ADDRESS = "127.0.0.1:9080";

/** "127.0.0.1:9080", "[::1]:9080", "0.0.0.0:9080", "localhost:9080" (port 0: any free one); null if not of that shape. */
export function parseApiAddress(text: string): { host: string; port: number } | null {
  const match = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || port > 65535) return null;
  return { host: match[1]!.replace(/^\[(.*)\]$/, "$1"), port };
}

export function openApi(
  control: DaemonControl,
  options: { host: string; port: number; token: string; stateDir?: string; downloadDir?: string; log?: (line: string) => void },
): ApiServer {
  const { host, port } = options;
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  try {
    return startApiServer(control, options);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE")
      throw new ListenError("port-in-use", `cannot open the API on ${where}: the port is in use (another daemon?); choose another with --api`);
    if (code === "EADDRNOTAVAIL")
      throw new ListenError("address-unavailable", `cannot open the API on ${where}: no interface of this machine has that address`);
    throw error;
  }
}
