// An incoming MSE connection that selects a plaintext payload hands its reader the socket's descriptor,
// so the reader can take what the kernel holds straight from it (direct-read.ts), as PeerConnection
// does. The payload that arrived in the same chunk as the handshake's end (`rest`) must reach the reader
// before anything read from the descriptor, or the stream comes out of order. A client that offers only
// plaintext may send its messages right behind the handshake, without waiting for our reply; this test
// sends 4 MiB that way, more than Bun reads in one event, so some is still in the kernel when the
// handshake completes.
import { expect, test } from "bun:test";
import type { Socket } from "bun";
import { MseInitiator, MseReceiver, SkeyTable } from "../../shared/mse/index.ts";
import { directReadAvailable, readAvailable } from "../../peer/net/direct-read.ts";
import { MseSocket } from "../../peer/net/mse/mse-socket.ts";
import { concatBytes } from "../../shared/bytes.ts";
import { until } from "../support/until.ts";

const INFO_HASH = new Uint8Array(20).fill(0xcd);
const IA = new TextEncoder().encode("the initiator's first message");
const PAYLOAD_BYTES = 4 << 20;
const patternByte = (k: number) => (k * 131 + (k >>> 12)) & 0xff;

test.skipIf(!directReadAvailable())(
  "payload sent right behind a plaintext-selecting handshake reaches the reader in order, the handshake chunk's rest before what the kernel still holds",
  async () => {
    const received: Uint8Array[] = [];
    let restBytes = -1;
    let directBytes = 0;
    let receivedBytes = 0;
    const take = (bytes: Uint8Array) => {
      received.push(bytes.slice());
      receivedBytes += bytes.length;
    };
    // Like PeerConnection.receive: a chunk, then whatever else the kernel holds, from the descriptor.
    const readKernel = (s: MseSocket) => {
      if (s.fd === undefined) return;
      directBytes += readAvailable(s.fd, (bytes) => {
        take(bytes);
        return true;
      });
    };
    const listener = Bun.listen<{ mse: MseSocket }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        binaryType: "uint8array",
        open(socket) {
          const receiver = new MseReceiver({ skeys: new SkeyTable([INFO_HASH]), accept: ["plaintext"] });
          socket.data = {
            mse: new MseSocket(socket as never, receiver, {
              ready: (s, result) => {
                restBytes = result.rest.length;
                take(result.initialPayload);
                readKernel(s);
              },
              data: (chunk) => {
                take(chunk);
                readKernel(socket.data.mse);
              },
              failed: (error) => {
                throw error;
              },
            }),
          };
          socket.data.mse.start();
        },
        data: (socket, chunk) => socket.data.mse.receive(chunk),
      },
    });
    const payload = new Uint8Array(PAYLOAD_BYTES);
    for (let i = 0; i < payload.length; i++) payload[i] = patternByte(i);
    const initiator = new MseInitiator({ infoHash: INFO_HASH, provide: ["plaintext"], initialPayload: IA });
    let unsent: Uint8Array = new Uint8Array(0);
    const flush = (socket: Socket<undefined>) => {
      const n = socket.write(unsent);
      unsent = unsent.subarray(Math.max(0, n));
    };
    let sentPayload = false;
    const client = await Bun.connect({
      hostname: "127.0.0.1",
      port: listener.port,
      socket: {
        binaryType: "uint8array",
        data(socket, chunk) {
          const step = initiator.feed(chunk);
          if (!step.send) return;
          // The step that carries the IA, then the payload in the same turn: the receiver cannot run in between.
          unsent = sentPayload ? step.send : concatBytes([step.send, payload]);
          sentPayload = true;
          flush(socket);
        },
        drain: flush,
      },
    });
    try {
      client.write(initiator.start());
      await until(() => receivedBytes >= IA.length + PAYLOAD_BYTES, "the whole payload", { tries: 1200, everyMs: 25 });
      // The case under test happened: payload came with the handshake's end, and more was read from the kernel.
      expect(restBytes).toBeGreaterThan(0);
      expect(directBytes).toBeGreaterThan(0);
      const stream = concatBytes(received);
      expect(stream.length).toBe(IA.length + PAYLOAD_BYTES);
      expect(stream.subarray(0, IA.length)).toEqual(IA);
      let firstWrong = -1;
      for (let i = 0; i < PAYLOAD_BYTES && firstWrong < 0; i++) if (stream[IA.length + i] !== patternByte(i)) firstWrong = i;
      expect(firstWrong).toBe(-1);
    } finally {
      client.end();
      listener.stop(true);
    }
  },
  60_000,
);
