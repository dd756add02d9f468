// Scripted peers for the blame and ban tests: a listener that a btpeer leecher dials (its address given with
// --peer), or a peer that dials a btpeer's listen port itself. Each speaks the handshake (and a BEP 10
// handshake when it wants a `reqq`), then runs its script; every request it is sent is counted.
import type { Socket, TCPSocketConnectOptions } from "bun";
import { encode } from "../../shared/bencode.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { encodeHandshake, encodeMessage } from "../../shared/wire/codec.ts";
import { MAX_REQUEST_KEY } from "../../shared/wire/extension.ts";
import type { WireMessage } from "../../shared/wire/types.ts";
import { fullBitfield, newWireReadState, readWire, refusedOpening, type WireReadState } from "./scripted-peer.ts";

export interface Wire {
  send(message: WireMessage): void;
  /** Bytes as they are (many messages at once). */
  sendRaw(bytes: Uint8Array): void;
  close(): void;
}

export interface Script {
  /** Right after our handshake went out (and the peer's arrived). */
  start?(wire: Wire): void;
  message?(message: WireMessage, wire: Wire): void;
}

export interface ScriptOptions {
  /** Our BEP 10 `reqq`: how many requests btpeer may keep outstanding with us. */
  reqq?: number;
  /** The pieces it says it has (a wire bitfield): every piece unless given (with `fast`: have-all). */
  bitfield?: Uint8Array;
  /** Sets the fast extension's bit (BEP 6). */
  fast?: boolean;
  /** Extensions it names in its BEP 10 handshake (name → its extended id); sets the extension bit. */
  extensions?: Record<string, number>;
  /** Its listen port, told in its BEP 10 handshake (`p`). */
  listenPort?: number;
  /** The longest request it serves, told in its BEP 10 handshake (`btpeer_max_request`). */
  maxRequest?: number;
}

/** Counters of one scripted peer, over all its connections. */
export interface ScriptedStats {
  /** Requests btpeer sent us. */
  requests: number;
  /** Connections on which btpeer's handshake arrived (got past the handshake). */
  admitted: number;
  /** Connections that ended. */
  closed: number;
}

interface State {
  read: WireReadState;
  wire: Wire;
}

let nextId = 0;
/** A fresh 20-byte peer id per connection. */
const freshPeerId = (tag: string) => new TextEncoder().encode(`-XX0001-${tag}-${++nextId}`.padEnd(20, "x").slice(0, 20));

function wireOf(socket: Socket<State>): Wire {
  return {
    send: (m) => void socket.write(encodeMessage(m)),
    sendRaw: (bytes) => void socket.write(bytes),
    close: () => socket.end(),
  };
}

function handshakeBytes(meta: Metainfo, tag: string, options: ScriptOptions): Uint8Array {
  const reserved = new Uint8Array(8);
  if (options.reqq || options.extensions || options.maxRequest) reserved[5] = 0x10;
  if (options.fast) reserved[7] = 0x04;
  return encodeHandshake({ reserved, infoHash: meta.infoHash, peerId: freshPeerId(tag) });
}

function afterHandshake(meta: Metainfo, wire: Wire, script: Script, options: ScriptOptions): void {
  if (options.fast && !options.bitfield) wire.send({ type: "have-all" });
  else wire.send({ type: "bitfield", bits: options.bitfield ?? fullBitfield(meta.pieceCount) });
  if (options.reqq || options.extensions || options.maxRequest) {
    const handshake = {
      m: options.extensions ?? {},
      ...(options.reqq ? { reqq: options.reqq } : {}),
      ...(options.maxRequest ? { [MAX_REQUEST_KEY]: options.maxRequest } : {}),
      ...(options.listenPort ? { p: options.listenPort } : {}),
    };
    wire.send({ type: "extended", id: 0, payload: encode(handshake) });
  }
  script.start?.(wire);
}

function onData(meta: Metainfo, socket: Socket<State>, chunk: Uint8Array, stats: ScriptedStats, script: Script, shake: () => void): void {
  readWire(socket.data.read, chunk, meta.pieceCount, {
    handshake: () => {
      stats.admitted++;
      shake();
    },
    message(m) {
      if (m.type === "request") stats.requests++;
      script.message?.(m, socket.data.wire);
    },
  });
}

export interface ListeningPeer {
  host: string;
  port: number;
  /** host:port, for --peer and as btpeer's label of it. */
  address: string;
  stats: ScriptedStats;
  /** Resolves when btpeer first closes a connection to us. */
  firstClose: Promise<void>;
  stop(): void;
}

/** A peer btpeer dials: listens on `host` (any 127.x.y.z address is loopback on Linux). */
export function listenScripted(meta: Metainfo, host: string, tag: string, script: Script, options: ScriptOptions = {}): ListeningPeer {
  const stats: ScriptedStats = { requests: 0, admitted: 0, closed: 0 };
  let closed!: () => void;
  const firstClose = new Promise<void>((resolve) => (closed = resolve));
  const server = Bun.listen<State>({
    hostname: host,
    port: 0,
    socket: {
      open(socket) {
        socket.data = { read: newWireReadState(), wire: wireOf(socket) };
      },
      data(socket, chunk) {
        if (refusedOpening(socket.data.read, chunk)) return void socket.end();
        onData(meta, socket, chunk, stats, script, () => {
          socket.write(handshakeBytes(meta, tag, options));
          afterHandshake(meta, socket.data.wire, script, options);
        });
      },
      close(socket) {
        if (socket.data.read.refused) return; // not a wire connection: btpeer dials again in plain
        stats.closed++;
        closed();
      },
    },
  });
  return { host, port: server.port, address: `${host}:${server.port}`, stats, firstClose, stop: () => server.stop(true) };
}

/**
 * Dials btpeer at 127.0.0.1:`port` from `from` (a loopback address of ours), with a fresh peer id. Resolves
 * when the connection ends, whether btpeer let it past the handshake or not.
 */
export function connectScripted(
  meta: Metainfo,
  from: string,
  port: number,
  tag: string,
  stats: ScriptedStats,
  script: Script,
  options: ScriptOptions = {},
): Promise<void> {
  return new Promise((resolve) => {
    const ended = () => {
      stats.closed++;
      resolve();
    };
    Bun.connect<State>({
      hostname: "127.0.0.1",
      port,
      localAddress: from,
      socket: {
        open(socket: Socket<State>) {
          socket.data = { read: newWireReadState(), wire: wireOf(socket) };
          socket.write(handshakeBytes(meta, tag, options));
        },
        data(socket: Socket<State>, chunk: Uint8Array) {
          onData(meta, socket, chunk, stats, script, () => afterHandshake(meta, socket.data.wire, script, options));
        },
        close: ended,
        connectError: ended,
      },
      // Bun binds the local address (bun-types does not declare the option).
    } as unknown as TCPSocketConnectOptions<State>).catch(() => {
      // connectError already ended it
    });
  });
}
