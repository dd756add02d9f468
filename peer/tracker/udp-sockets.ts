// The UDP tracker client's sockets: one per tracker address, connected to it. Connected, because the
// system reports an ICMP refusal (nothing listens on the tracker's port: ECONNREFUSED) or an unreachable
// host only as an error on the socket, naming no address; on a socket of its own the error can only be
// that tracker's, so its requests fail at once rather than wait out the retransmission schedule. A socket
// is kept while requests to its tracker are outstanding and for `lingerMs` after (the connection id
// cached for a minute was given to this source port), then closed.
import type { udp } from "bun";
import type { Family } from "../../shared/udp-tracker/index.ts";
import type { UdpTarget } from "./udp-target.ts";
import { UdpTrackerError } from "./udp-tracker-error.ts";

type Socket = udp.ConnectedSocket<"uint8array">;

export interface TrackerSocketHooks {
  /** A datagram from the tracker. */
  receive(packet: Uint8Array, family: Family, address: string, port: number): void;
  /** The system said the tracker cannot be reached (an ICMP error): its requests fail with `error`. */
  unreachable(target: UdpTarget, error: UdpTrackerError): void;
}

interface Entry {
  socket: Promise<Socket>;
  users: number;
  idle: ReturnType<typeof setTimeout> | null;
}

export class TrackerSockets {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly hooks: TrackerSocketHooks,
    private readonly lingerMs: number,
    private readonly bind: { 4?: string; 6?: string } = {},
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The tracker's socket, opened if need be; release() the lease when the request is done. */
  acquire(target: UdpTarget): { socket: Promise<Socket>; release(): void } {
    const key = keyOf(target);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { socket: this.open(target, key), users: 0, idle: null };
      this.entries.set(key, entry);
    }
    const leased = entry;
    if (leased.idle) clearTimeout(leased.idle);
    leased.idle = null;
    leased.users++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--leased.users > 0 || this.entries.get(key) !== leased) return;
      leased.idle = setTimeout(() => this.drop(key, leased), this.lingerMs);
      leased.idle.unref?.();
    };
    return { socket: leased.socket, release };
  }

  closeAll(): void {
    for (const [key, entry] of this.entries) this.drop(key, entry);
  }

  private drop(key: string, entry: Entry): void {
    if (this.entries.get(key) !== entry) return;
    if (entry.idle) clearTimeout(entry.idle);
    this.entries.delete(key);
    entry.socket.then(
      (s) => s.close(),
      () => {},
    );
  }

  private open(target: UdpTarget, key: string): Promise<Socket> {
    const { family } = target;
    const hooks = this.hooks;
    let opening: Promise<Socket>;
    try {
      opening = Bun.udpSocket({
        hostname: this.bind[family] ?? (family === 6 ? "::" : "0.0.0.0"),
        binaryType: "uint8array",
        connect: { hostname: target.address, port: target.port },
        socket: {
          data: (_s, data, port, address) => hooks.receive(data, family, address, port),
          // Bun passes the error as the only argument (its typings say (socket, error)): take whichever is one.
          error: (...args: unknown[]) => {
            const error = args.find((a) => a instanceof Error) as (Error & { code?: string }) | undefined;
            hooks.unreachable(target, unreachableError(target, error?.code ?? "unknown"));
          },
        },
      });
    } catch (error) {
      opening = Promise.reject(error); // Bun throws a failed connect at once
    }
    const socket: Promise<Socket> = opening.then(
      (s) => {
        // Pending requests keep the process alive through their timers; the socket must not.
        s.unref();
        return s;
      },
      (error) => {
        if (this.entries.get(key)?.socket === socket) this.entries.delete(key);
        const message = error instanceof Error ? error.message : String(error);
        // Connecting names the destination: refused there (no route, family not supported), a send would be too.
        if ((error as { syscall?: string }).syscall === "connect") throw new UdpTrackerError("send-failed", `cannot send to ${whereOf(target)}: ${message}`);
        throw new UdpTrackerError("no-socket", `cannot open an IPv${family} UDP socket: ${message}`);
      },
    );
    return socket;
  }
}

export function keyOf(target: UdpTarget): string {
  return `${target.address}|${target.port}`;
}

function whereOf(target: UdpTarget): string {
  return `${target.family === 6 ? `[${target.address}]` : target.address}:${target.port}`;
}

function unreachableError(target: UdpTarget, code: string): UdpTrackerError {
  const where = whereOf(target);
  const why = code === "ECONNREFUSED" ? "connection refused (ICMP port unreachable: nothing listens on that port)" : `unreachable (${code})`;
  return new UdpTrackerError("unreachable", `${where}: ${why}`);
}
