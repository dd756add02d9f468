// Bun TCP sockets for peer connections: one listener for incoming peers, dialling for outgoing ones.
// Each socket carries what reads it in `socket.data.sink` (a PeerConnection, or first an MSE handshake or
// the sniffing of an incoming connection's first bytes, which replace themselves with the connection);
// the handlers only forward events to it.
import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import type { PeerAddress } from "../../shared/compact.ts";
import type { CloseReason } from "./close-reason.ts";
import { boundLocalSendBuffer, unpacedListener } from "./local-send-buffer.ts";

/** What reads a socket: PeerConnection is one. */
export interface SocketSink {
  receive(chunk: Uint8Array): void;
  /**
   * True when `receive` has kept no reference to the chunk it was given (views included) once it returns:
   * the chunk's memory is then freed at once (see releaseChunk). Read after each `receive`.
   */
  readonly chunksLetGo?: boolean;
  drained(): void;
  closed(reason: CloseReason): void;
}

export interface SocketData {
  sink: SocketSink | null;
  /** Builds what reads the socket once it is open. */
  open?: (socket: Socket<SocketData>) => SocketSink | null;
  failed?: (reason: string) => void;
}

/** The socket's descriptor: Bun has it, bun-types does not declare it. */
const fdOf = (socket: Socket<SocketData>): number | undefined => (socket as unknown as { fd?: number }).fd;

const handlers: SocketHandler<SocketData, "uint8array"> = {
  binaryType: "uint8array",
  open(socket) {
    boundLocalSendBuffer(fdOf(socket), socket.remoteAddress);
    const make = socket.data?.open;
    if (!make) return;
    socket.data.sink = make(socket);
    if (!socket.data.sink) socket.end();
  },
  data(socket, chunk) {
    const sink = socket.data?.sink;
    if (!sink) return;
    sink.receive(chunk);
    if (sink.chunksLetGo) releaseChunk(chunk);
  },
  drain(socket) {
    socket.data?.sink?.drained();
  },
  close(socket, error) {
    socket.data?.sink?.closed(error ? { code: "connection-lost", detail: error.message } : { code: "closed-by-peer" });
  },
  error(socket, error) {
    socket.data?.sink?.closed({ code: "socket-error", detail: error.message });
  },
  connectError(socket, error) {
    // Bun's message is only "Failed to connect": the code says how (ECONNREFUSED, ETIMEDOUT, ...).
    const code = (error as { code?: string }).code;
    socket.data?.failed?.(code ? `${error.message} (${code})` : error.message);
  },
};

// Bun hands every `data` event a freshly allocated buffer of its own (up to 512 KiB; half of what a fast
// download receives comes this way, the rest through direct-read.ts). Left to the collector, those buffers
// piled up by 100 MiB and more before it ran on its own, so the peer used to force a collection every 4 MiB
// of them, and each copy landed in memory that had to be faulted in afresh. Detaching the buffer (transfer
// to length 0) frees its memory at once instead, to be reused warm by the next chunk; only the small
// wrapper objects are left (see chunk-garbage.ts).
const transferBuffer = (ArrayBuffer.prototype as { transfer?: (this: ArrayBuffer, length: number) => ArrayBuffer }).transfer;

/** Frees a chunk Bun gave us whose bytes nobody holds any more; a chunk sharing its buffer is left alone. */
function releaseChunk(chunk: Uint8Array): void {
  const buffer = chunk.buffer;
  if (!transferBuffer || chunk.byteOffset !== 0 || buffer.byteLength !== chunk.byteLength || buffer instanceof SharedArrayBuffer) return;
  transferBuffer.call(buffer, 0);
}

export type ListenErrorCode = "port-in-use" | "address-unavailable" | "listen-failed";

export class ListenError extends Error {
  override readonly name = "ListenError";
  constructor(
    readonly code: ListenErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Listens on `bind` only, or when it is null on every interface (IPv6 and IPv4 where the system allows).
 * `accept` turns an open socket into a connection, or returns null to refuse it.
 */
export function listenForPeers(
  port: number,
  bind: string | null,
  accept: (socket: Socket<SocketData>, address: PeerAddress) => SocketSink | null,
): TCPSocketListener<SocketData> {
  const options = (hostname: string) => ({
    hostname,
    port,
    data: { sink: null } as SocketData,
    socket: {
      ...handlers,
      open(socket: Socket<SocketData>) {
        boundLocalSendBuffer(fdOf(socket), socket.remoteAddress, true); // before its first bytes say what it is
        socket.data = { sink: null };
        const ip = socket.remoteAddress.startsWith("::ffff:") ? socket.remoteAddress.slice(7) : socket.remoteAddress;
        socket.data.sink = accept(socket, { ip, port: (socket as unknown as { remotePort?: number }).remotePort ?? 0 });
        if (!socket.data.sink) socket.end();
      },
    },
  });
  const errno = (error: unknown) => (error as { code?: string } | null)?.code ?? "";
  const explain = (error: unknown, hostname: string): ListenError => {
    if (errno(error) === "EADDRINUSE" || /EADDRINUSE|in use/i.test(String(error))) {
      return new ListenError("port-in-use", `port ${port} is already in use; pick another with --port`);
    }
    if (errno(error) === "EADDRNOTAVAIL") return new ListenError("address-unavailable", `--bind ${hostname}: that address is not on this machine`);
    return new ListenError("listen-failed", `cannot listen on ${hostname} port ${port}: ${error instanceof Error ? error.message : String(error)}`);
  };
  const listen = (hostname: string) => {
    let listener: TCPSocketListener<SocketData>;
    try {
      listener = Bun.listen<SocketData>(options(hostname) as never);
    } catch (error) {
      throw explain(error, hostname);
    }
    unpacedListener((listener as unknown as { fd?: number }).fd); // before any connection is accepted
    return listener;
  };
  if (bind !== null) return listen(bind);
  try {
    return listen("::");
  } catch (error) {
    if ((error as ListenError).code === "port-in-use") throw error;
    return listen("0.0.0.0"); // no IPv6 on this system
  }
}

/**
 * Dials a peer, from `localAddress` when given; `open` builds the connection when TCP is up, `failed` runs
 * when it cannot connect.
 */
export function dialPeer(
  address: PeerAddress,
  open: (socket: Socket<SocketData>) => SocketSink | null,
  failed: (reason: string) => void,
  localAddress: string | null = null,
): void {
  Bun.connect<SocketData>({
    hostname: address.ip,
    port: address.port,
    // Bun.connect binds the socket to `localAddress` before connecting; bun-types does not declare it.
    ...(localAddress !== null ? { localAddress } : {}),
    data: { sink: null, open, failed },
    socket: handlers as never,
  } as never).catch(() => {
    // connectError already reported it
  });
}

export type PeerSocket = Socket<SocketData>;
