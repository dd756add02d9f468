// A deliberately slow but honest seeder for tests that must catch a download halfway: it answers one
// request every `intervalMs`, with the right bytes read from the source file.
import fs from "node:fs";
import type { TCPSocketListener } from "bun";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { encodeHandshake, encodeMessage } from "../../shared/wire/codec.ts";
import { fullBitfield, newWireReadState, readWire, type WireReadState } from "./scripted-peer.ts";

export interface SlowSeeder {
  port: number;
  blocksServed: number;
  stop(): void;
}

export function startSlowSeeder(meta: Metainfo, sourceFile: string, intervalMs: number): SlowSeeder {
  const fd = fs.openSync(sourceFile, "r");
  const peerId = new TextEncoder().encode("-XX0001-slow-seeder!");
  const bits = fullBitfield(meta.pieceCount);
  const timers = new Set<ReturnType<typeof setInterval>>();
  const state: SlowSeeder = { port: 0, blocksServed: 0, stop: () => {} };
  type Data = WireReadState & { queue: { index: number; begin: number; length: number }[] };
  const server: TCPSocketListener<Data> = Bun.listen<Data>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { ...newWireReadState(), queue: [] };
        const timer = setInterval(() => {
          const r = socket.data.queue.shift();
          if (!r) return;
          const block = new Uint8Array(r.length);
          fs.readSync(fd, block, 0, r.length, r.index * meta.pieceLength + r.begin);
          socket.write(encodeMessage({ type: "piece", index: r.index, begin: r.begin, block }));
          state.blocksServed++;
        }, intervalMs);
        timers.add(timer);
        (socket.data as Data & { timer?: unknown }).timer = timer;
      },
      data(socket, chunk) {
        readWire(socket.data, chunk, meta.pieceCount, {
          handshake() {
            socket.write(encodeHandshake({ reserved: new Uint8Array(8), infoHash: meta.infoHash, peerId }));
            socket.write(encodeMessage({ type: "bitfield", bits }));
            socket.write(encodeMessage({ type: "unchoke" }));
          },
          message(m) {
            if (m.type === "request") socket.data.queue.push({ index: m.index, begin: m.begin, length: m.length });
          },
        });
      },
      close(socket) {
        const timer = (socket.data as Data & { timer?: ReturnType<typeof setInterval> }).timer;
        if (timer) {
          clearInterval(timer);
          timers.delete(timer);
        }
      },
    },
  });
  state.port = server.port;
  state.stop = () => {
    for (const t of timers) clearInterval(t);
    server.stop(true);
    fs.closeSync(fd);
  };
  return state;
}
