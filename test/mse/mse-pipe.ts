// Test-only plumbing for MseSocket alone over real sockets (mse-socket.test.ts): dial or accept a TCP
// connection and run our MSE handshake on it, with no PeerConnection above. btpeer's own path (the
// Client's listener, the dialer, MseLink) is tested through dist/btpeer and the Client elsewhere.
import type { Socket } from "bun";
import { FirstBytes, type MseError, type MseInitiator, type MseReceiver, type MseResult } from "../../shared/mse/index.ts";
import { MseSocket } from "../../peer/net/mse/mse-socket.ts";
import type { MseLimits } from "../../peer/net/mse/limits.ts";

interface Link {
  mse: MseSocket | null;
  payload: (chunk: Uint8Array) => void;
  /** Where a drain and a close go once the handshake is done. */
  drain: () => void;
  closed: (reason: string) => void;
}

export interface MseOutcome {
  mse: MseSocket;
  result: MseResult;
  /** Connect a handler to the payload stream (chunks from the handshake's end on), and to drain. */
  attach(onData: (chunk: Uint8Array) => void, onDrain?: () => void, onClosed?: (reason: string) => void): void;
}

function handlers(onOpen: (socket: Socket<Link>) => void) {
  return {
    binaryType: "uint8array" as const,
    open: onOpen,
    data(socket: Socket<Link>, chunk: Uint8Array) {
      const link = socket.data;
      if (link.mse) return link.mse.receive(chunk);
      link.payload(chunk);
    },
    drain(socket: Socket<Link>) {
      socket.data.mse?.drained();
    },
    close(socket: Socket<Link>) {
      socket.data.mse?.closed("closed by peer");
      socket.data.closed("closed by peer");
    },
    error(socket: Socket<Link>, error: Error) {
      socket.data.mse?.closed(error.message);
      socket.data.closed(error.message);
    },
  };
}

/** Wires an MseSocket to the promise of its handshake and to whoever reads the payload afterwards. */
function track(
  link: Link,
  socket: Socket<Link>,
  machine: MseInitiator | MseReceiver,
  resolve: (o: MseOutcome) => void,
  reject: (e: unknown) => void,
  limits: Partial<MseLimits> = {},
): MseSocket {
  let reader: ((chunk: Uint8Array) => void) | null = null;
  const early: Uint8Array[] = [];
  const mse = new MseSocket(
    socket as never,
    machine,
    {
      ready: (s, result) =>
        resolve({
          mse: s,
          result,
          attach(onData, onDrain, onClosed) {
            reader = onData;
            if (onDrain) link.drain = onDrain;
            if (onClosed) link.closed = onClosed;
            for (const c of early.splice(0)) onData(c);
          },
        }),
      data: (chunk) => (reader ? reader(chunk) : early.push(chunk.slice())),
      failed: (error: MseError) => reject(error),
      drain: () => link.drain(),
    },
    limits,
  );
  link.mse = mse;
  return mse;
}

/** Dials `port` on loopback and runs our MSE handshake as the initiator. */
export function dialMse(port: number, machine: MseInitiator, limits: Partial<MseLimits> = {}): Promise<MseOutcome> {
  return new Promise((resolve, reject) => {
    const link: Link = { mse: null, payload: () => {}, drain: () => {}, closed: () => {} };
    Bun.connect<Link>({
      hostname: "127.0.0.1",
      port,
      data: link,
      socket: {
        ...handlers((socket) => track(link, socket, machine, resolve, reject, limits).start()),
        connectError: (_s: unknown, e: Error) => reject(e),
      } as never,
    }).catch(reject);
  });
}

/**
 * Listens on loopback; each incoming connection that classifyIncoming calls MSE is handed to a new
 * receiver from `makeReceiver`; `onPlaintext` hears of any other.
 */
export function listenMse(
  makeReceiver: () => MseReceiver,
  onHandshake: (outcome: Promise<MseOutcome>) => void,
  onPlaintext: (first: Uint8Array) => void = () => {},
  limits: Partial<MseLimits> = {},
) {
  return Bun.listen<Link>({
    hostname: "127.0.0.1",
    port: 0,
    socket: handlers((socket) => {
      const link: Link = { mse: null, payload: () => {}, drain: () => {}, closed: () => {} };
      socket.data = link;
      const first = new FirstBytes();
      link.payload = (chunk) => {
        const decided = first.push(chunk);
        if (!decided) return;
        link.payload = () => {}; // a plaintext peer's later bytes are not ours here
        if (decided.kind === "plaintext") return onPlaintext(decided.bytes);
        onHandshake(
          new Promise((resolve, reject) => {
            const mse = track(link, socket, makeReceiver(), resolve, reject, limits);
            mse.start();
            mse.receive(decided.bytes);
          }),
        );
      };
    }) as never,
  });
}
