// The DHT bit of the handshake and the BEP 5 `port` message, seen from a hand-written peer on the wire
// against a real btpeer seeder: btpeer sets the bit, sends its DHT port (the listener's number) to a peer
// that sets it too and to no other, pings the node a peer's `port` message names; a private torrent
// (BEP 27) does none of it. The test's own UDP socket plays the peer's DHT node, on loopback.
import { afterAll, beforeAll, expect, test } from "bun:test";
import path from "node:path";
import { decodeMessage as decodeKrpc, encodeMessage as encodeKrpc, type KrpcMessage } from "../../shared/dht/index.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { DHT_BIT, encodeHandshake, encodeMessage, EXTENSION_BIT, supportsDht } from "../../shared/wire/codec.ts";
import type { Handshake, WireMessage } from "../../shared/wire/types.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { makeTorrent, startBtpeer, type Btpeer } from "../peer/btpeer-harness.ts";
import { newWireReadState, readWire } from "../peer/scripted-peer.ts";

let dir = "";
const received: { message: KrpcMessage; port: number }[] = [];
let udp: { port: number; close(): void };

beforeAll(async () => {
  dir = makeTempDir("btpeer-port-msg-");
  makeRandomFile(path.join(dir, "data", "d.bin"), 256 * 1024, 7);
  udp = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    binaryType: "uint8array",
    socket: {
      data(socket, data, port, address) {
        const message = decodeKrpc(data);
        received.push({ message, port });
        // Answer like a node, so the seeder keeps us.
        if (message.type === "query")
          socket.send(encodeKrpc({ type: "response", transactionId: message.transactionId, id: new Uint8Array(20).fill(9) }), port, address);
      },
    },
  });
});

afterAll(async () => {
  udp.close();
  await stopAllServices();
  removeDir(dir);
}, 30_000);

async function seeder(name: string, isPrivate: boolean): Promise<{ peer: Btpeer; infoHash: Uint8Array }> {
  const torrent = await makeTorrent(path.join(dir, "data", "d.bin"), path.join(dir, `${name}.torrent`), { pieceLength: 32 * 1024, private: isPrivate });
  const peer = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "data"), "--dht-bootstrap", "127.0.0.1:1"], { name });
  return { peer, infoHash: parseMetainfo(new Uint8Array(await Bun.file(torrent).arrayBuffer())).infoHash };
}

/** Dials `port` with a handshake carrying `reserved`; the answer's handshake and messages as they come. */
async function dial(port: number, infoHash: Uint8Array, dhtBit: boolean) {
  const reserved = new Uint8Array(8);
  reserved[EXTENSION_BIT.byte] = EXTENSION_BIT.mask;
  if (dhtBit) reserved[DHT_BIT.byte]! |= DHT_BIT.mask;
  const messages: WireMessage[] = [];
  let handshake: Handshake | undefined;
  const state = newWireReadState();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        readWire(state, new Uint8Array(chunk), 8, {
          handshake: (h) => (handshake = h),
          // Views into the chunk do not outlive it: only the kind (and a port message's port) is kept.
          message: (m) => messages.push(m.type === "port" ? m : ({ type: m.type } as WireMessage)),
        });
      },
    },
  });
  socket.write(encodeHandshake({ reserved, infoHash, peerId: crypto.getRandomValues(new Uint8Array(20)) }));
  const until = async <T>(probe: () => T | undefined): Promise<T> => {
    for (let i = 0; i < 300; i++) {
      const v = probe();
      if (v !== undefined) return v;
      await Bun.sleep(20);
    }
    throw new Error(`nothing came; messages: ${JSON.stringify(messages)}`);
  };
  return {
    handshake: () => until(() => handshake),
    message: (type: WireMessage["type"]) => until(() => messages.find((m) => m.type === type)),
    messages,
    send: (m: WireMessage) => socket.write(encodeMessage(m)),
    until,
    close: () => socket.end(),
  };
}

test("btpeer sets the DHT bit, sends its DHT port to a peer that sets it, and pings the node a peer's port message names", async () => {
  const { peer, infoHash } = await seeder("public seeder", false);
  const conn = await dial(peer.port, infoHash, true);
  expect(supportsDht((await conn.handshake()).reserved)).toBe(true);
  expect(await conn.message("port")).toEqual({ type: "port", port: peer.port });

  conn.send({ type: "port", port: udp.port });
  const ping = await conn.until(() => received.find((r) => r.message.type === "query" && r.port === peer.port));
  expect(ping.message).toMatchObject({ type: "query", method: "ping" });
  conn.close();
});

test("no port message to a peer without the DHT bit", async () => {
  const { peer, infoHash } = await seeder("public seeder 2", false);
  const conn = await dial(peer.port, infoHash, false);
  expect(supportsDht((await conn.handshake()).reserved)).toBe(true);
  // The port message would come right after the handshake: an unchoke after it shows it never did.
  conn.send({ type: "interested" });
  await conn.message("unchoke");
  expect(conn.messages.map((m) => m.type)).not.toContain("port");
  conn.close();
});

test("a private torrent (BEP 27): no DHT bit, no port message", async () => {
  const { peer, infoHash } = await seeder("private seeder", true);
  const conn = await dial(peer.port, infoHash, true);
  expect(supportsDht((await conn.handshake()).reserved)).toBe(false);
  conn.send({ type: "interested" });
  await conn.message("unchoke");
  expect(conn.messages.map((m) => m.type)).not.toContain("port");
  conn.close();
});
