// Scripted ut_metadata peers for the magnet tests: a listener a btpeer leecher dials (its address in --peer),
// speaking the handshake and a BEP 10 handshake that announces ut_metadata with a chosen metadata_size,
// then answering btpeer's metadata requests as its script says (honestly, with bad bytes, never...).
// Built on the shared codecs; it has no pieces, so only its metadata matters.
import type { Socket } from "bun";
import { encode } from "../../shared/bencode.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { encodeHandshake, encodeMessage } from "../../shared/wire/codec.ts";
import { EXTENSION_HANDSHAKE_ID, decodeExtensionHandshake } from "../../shared/wire/extension.ts";
import { decodeMetadataMessage, encodeMetadataMessage, METADATA_PIECE, UT_METADATA } from "../../shared/wire/ut-metadata.ts";
import { newWireReadState, readWire, refusedOpening, type WireReadState } from "./scripted-peer.ts";

/** The extended id this peer receives ut_metadata on. */
const THEIR_ID = 3;

export interface MetadataWire {
  data(piece: number, totalSize: number, bytes: Uint8Array): void;
  reject(piece: number): void;
  close(): void;
}

export interface MetadataScript {
  /** The metadata_size it announces. */
  size: number;
  /** Right after its extension handshake went out (btpeer's may not be in yet). */
  start?(wire: MetadataWire): void;
  /** btpeer asked for `piece`; nothing answers unless the script does. */
  request?(piece: number, wire: MetadataWire): void;
}

export interface MetadataPeer {
  address: string;
  /** Pieces btpeer asked for, in order, over all connections. */
  requests: number[];
  /** Resolves when btpeer first closes a connection to us that got past the handshake. */
  closed: Promise<void>;
  stop(): void;
}

interface State {
  read: WireReadState;
  /** btpeer's ut_metadata id, from its extension handshake. */
  btpeerId: number | null;
  wire: MetadataWire;
}

let nextId = 0;

/** The true metadata piece `piece` of `meta`. */
export function truePiece(meta: Metainfo, piece: number): Uint8Array {
  return meta.infoBytes.subarray(piece * METADATA_PIECE, Math.min(meta.infoBytes.length, (piece + 1) * METADATA_PIECE));
}

export function listenMetadataPeer(meta: Metainfo, host: string, script: MetadataScript): MetadataPeer {
  const requests: number[] = [];
  let onClosed!: () => void;
  const closed = new Promise<void>((r) => (onClosed = r));
  const peerId = new TextEncoder().encode(`-XX0001-meta-${++nextId}`.padEnd(20, "x").slice(0, 20));
  const wireOf = (socket: Socket<State>): MetadataWire => {
    const send = (message: Parameters<typeof encodeMetadataMessage>[0]) => {
      if (socket.data.btpeerId === null) throw new Error("btpeer's extension handshake has not arrived");
      socket.write(encodeMessage({ type: "extended", id: socket.data.btpeerId, payload: encodeMetadataMessage(message) }));
    };
    return {
      data: (piece, totalSize, data) => send({ kind: "data", piece, totalSize, data }),
      reject: (piece) => send({ kind: "reject", piece }),
      close: () => socket.end(),
    };
  };
  const server = Bun.listen<State>({
    hostname: host,
    port: 0,
    socket: {
      open(socket) {
        socket.data = { read: newWireReadState(), btpeerId: null, wire: wireOf(socket) };
      },
      data(socket, chunk) {
        if (refusedOpening(socket.data.read, chunk)) return void socket.end(); // plain BitTorrent only: btpeer dials again in plain
        readWire(socket.data.read, chunk, meta.pieceCount, {
          handshake() {
            const reserved = new Uint8Array(8);
            reserved[5] = 0x10;
            socket.write(encodeHandshake({ reserved, infoHash: meta.infoHash, peerId }));
            const ours = encode({ m: { [UT_METADATA]: THEIR_ID }, metadata_size: script.size });
            socket.write(encodeMessage({ type: "extended", id: EXTENSION_HANDSHAKE_ID, payload: ours }));
          },
          message(m) {
            if (m.type !== "extended") return;
            if (m.id === EXTENSION_HANDSHAKE_ID) {
              const first = socket.data.btpeerId === null;
              socket.data.btpeerId = decodeExtensionHandshake(m.payload).m.get(UT_METADATA) ?? null;
              if (first) script.start?.(socket.data.wire);
              return;
            }
            if (m.id !== THEIR_ID) return;
            const message = decodeMetadataMessage(m.payload);
            if (message.kind !== "request") return;
            requests.push(message.piece);
            script.request?.(message.piece, socket.data.wire);
          },
        });
      },
      close(socket) {
        if (socket.data.read.shook) onClosed(); // not the refused MSE attempts
      },
    },
  });
  return { address: `${host}:${server.port}`, requests, closed, stop: () => server.stop(true) };
}
