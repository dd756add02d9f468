// Seeding without copying through the process: piece blocks of plaintext connections go from the files
// through a pipe into the socket (splice(2)). Over real loopback sockets whose receiver holds back (so a
// splice is cut short and resumes, and Bun's drain has to come), with real files: the whole stream decodes, blocks and
// the control messages queued between them in order; an upload limit sends exactly what each refill
// allows; and a real btpeer seeder serves libtorrent and btpeer leechers, checked byte for byte.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { Bitfield } from "../../shared/bitfield.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { encodeHandshake } from "../../shared/wire/codec.ts";
import { BLOCK_SIZE, type WireMessage } from "../../shared/wire/types.ts";
import { type ConnectionEncryption, PeerConnection } from "../../peer/net/peer-connection.ts";
import { spliceCounter, spliceOps } from "../../peer/net/splice.ts";
import { TokenBucket } from "../../peer/net/token-bucket.ts";
import { TorrentStorage } from "../../peer/storage/torrent-storage.ts";
import { SwarmPeer } from "../../peer/swarm/swarm-peer.ts";
import { Uploader } from "../../peer/upload/uploader.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { startLtPeer } from "../support/libtorrent.ts";
import { stopAllServices } from "../support/processes.ts";
import { DEBIAN_PYTHON, needs, PROGRAMS } from "../support/system.ts";
import { isEvent, makeTorrent, startBtpeer } from "./btpeer-harness.ts";
import { newWireReadState, readWire } from "./scripted-peer.ts";

const PIECE = 16 * BLOCK_SIZE;

/** argv[1]: the file to write. Prints its port, accepts one connection, reads nothing until a line on stdin. */
const RECEIVER = `
import socket, sys
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
print(server.getsockname()[1], flush=True)
conn, _ = server.accept()
sys.stdin.readline()
with open(sys.argv[1], "wb", buffering=0) as out:
    while True:
        data = conn.recv(1 << 20)
        if not data:
            break
        out.write(data)
`;
let dir = "";
let source = "";
let torrent = "";

beforeAll(async () => {
  dir = makeTempDir("btpeer-zero-copy-");
  source = path.join(dir, "src", "set");
  makeRandomFile(path.join(source, "a.bin"), 5 * PIECE + 3 * BLOCK_SIZE + 100, 61); // files meet inside a block
  makeRandomFile(path.join(source, "b.bin"), 40 * PIECE + 77, 62); // more than loopback's socket buffers hold
  torrent = await makeTorrent(source, path.join(dir, "set.torrent"), { pieceLength: PIECE });
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

const content = () => Buffer.concat([fs.readFileSync(path.join(source, "a.bin")), fs.readFileSync(path.join(source, "b.bin"))]);

/**
 * A seeding PeerConnection on a real loopback socket, with an Uploader reading the real files. The
 * receiving end (node:net) takes nothing until `release()`, then decodes the whole stream.
 */
async function seedingConnection(limit?: TokenBucket, encryption: ConnectionEncryption = "none") {
  const meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
  const storage = TorrentStorage.open(meta, path.dirname(source));
  const have = new Bitfield(meta.pieceCount);
  for (let i = 0; i < meta.pieceCount; i++) have.set(i);
  const uploader = new Uploader(meta, have, storage, undefined, limit, undefined, storage);
  // The receiving end is another process (Python's sockets, nothing of ours), which takes no byte until
  // told to, then writes everything it reads to a file.
  const sink = path.join(dir, `received-${Math.random().toString(36).slice(2)}.bin`);
  const receiver = Bun.spawn([DEBIAN_PYTHON, "-u", "-c", RECEIVER, sink], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = receiver.stdout.getReader();
  const { value } = await reader.read();
  const port = Number(new TextDecoder().decode(value).trim());
  let conn!: PeerConnection;
  let peer!: SwarmPeer;
  await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      open(socket) {
        const options = {
          ourPeerId: new Uint8Array(20).fill(1),
          listenPort: 0,
          outgoing: true,
          address: { ip: "127.0.0.1", port },
          encryption,
          torrent: { infoHash: meta.infoHash, pieceCount: meta.pieceCount, ourPieces: () => have },
        };
        conn = new PeerConnection(socket as never, options, { onHandshake: () => null, onMessage() {}, onDrain: () => uploader.serve(peer), onClose() {} });
      },
      drain: () => conn.drained(),
      data() {},
    },
  });
  conn.receive(encodeHandshake({ reserved: new Uint8Array(8), infoHash: meta.infoHash, peerId: new Uint8Array(20).fill(2) }));
  conn.send({ type: "unchoke" });
  peer = new SwarmPeer(conn, 4096);
  const state = newWireReadState();
  const messages: WireMessage[] = [];
  let decoded = 0;
  let released = false;
  /** Lets the receiver read everything sent so far and more; decodes the stream until `until` holds. */
  const received = async (until: (messages: WireMessage[]) => boolean): Promise<WireMessage[]> => {
    if (!released) {
      receiver.stdin.write("go\n");
      receiver.stdin.flush();
      released = true;
    }
    for (let i = 0; i < 3000; i++) {
      const size = fs.existsSync(sink) ? fs.statSync(sink).size : 0;
      if (size > decoded) {
        const fd = fs.openSync(sink, "r");
        const fresh = new Uint8Array(size - decoded);
        fs.readSync(fd, fresh, 0, fresh.length, decoded);
        fs.closeSync(fd);
        decoded = size;
        readWire(state, fresh, meta.pieceCount, { handshake() {}, message: (m) => messages.push(m.type === "piece" ? { ...m, block: m.block.slice() } : m) });
      }
      if (until(messages)) return [...messages];
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error("the stream never completed");
  };
  const close = () => {
    conn.close({ code: "local", detail: "test over" });
    receiver.kill();
    uploader.stop();
    storage.close();
  };
  return { meta, conn, peer, uploader, received, close };
}

/** The piece messages' blocks must be the content's bytes at their place. */
function expectBlocksRight(messages: WireMessage[], bytes: Buffer, pieceLength: number): void {
  for (const m of messages) {
    if (m.type !== "piece") continue;
    const at = m.index * pieceLength + m.begin;
    expect(Buffer.from(m.block).equals(bytes.subarray(at, at + m.block.length))).toBe(true);
  }
}

describe.skipIf(spliceOps() === null)("splice on a real socket", () => {
  test("blocks held back by a full socket resume where the splice stopped, in order with have and choke", async () => {
    const s = await seedingConnection();
    try {
      const { meta, conn, peer, uploader } = s;
      expect(conn.sendsFiles).toBe(true);
      const before = spliceCounter.bytes;
      const pieces: string[] = [];
      let heldBack = 0;
      // Every block of every piece, a `have` after each piece's requests and a choke at the end. The
      // uploader queues blocks until its high-water mark, so haves land between blocks wherever that falls.
      for (let index = 0; index < meta.pieceCount; index++) {
        const size = index === meta.pieceCount - 1 ? meta.length - index * PIECE : PIECE;
        for (let begin = 0; begin < size; begin += BLOCK_SIZE) {
          expect(uploader.requested(peer, index, begin, Math.min(BLOCK_SIZE, size - begin))).toBeNull();
          pieces.push(`${index}:${begin}`);
        }
        uploader.serve(peer);
        conn.send({ type: "have", index });
        heldBack = Math.max(heldBack, conn.queuedBytes);
      }
      // The receiver has read nothing: the kernel's buffers filled up and the splice was cut short.
      expect(heldBack).toBeGreaterThan(0);
      const messages = await s.received((m) => m.filter((x) => x.type === "piece").length === pieces.length && m.length > pieces.length + meta.pieceCount);
      conn.send({ type: "choke" });
      const all = await s.received((m) => m[m.length - 1]?.type === "choke");
      expect(all.length).toBe(messages.length + 1);
      expect(all.slice(0, 2).map((m) => m.type)).toEqual(["bitfield", "unchoke"]);
      expect(all.filter((m) => m.type === "piece").map((m) => `${m.index}:${m.begin}`)).toEqual(pieces);
      expect(all.filter((m) => m.type === "have").map((m) => m.index)).toEqual([...Array(meta.pieceCount).keys()]);
      // Haves went out while blocks waited: some landed between blocks, not all after them.
      const firstHave = all.findIndex((m) => m.type === "have");
      const lastPiece = all.findLastIndex((m) => m.type === "piece");
      expect(firstHave).toBeLessThan(lastPiece);
      expectBlocksRight(all, content(), PIECE);
      expect(uploader.uploadedByFile).toBe(meta.length);
      expect(spliceCounter.bytes - before).toBeGreaterThan(meta.length / 2);
    } finally {
      s.close();
    }
  }, 60_000);

  test("an MSE connection whose socket offers no descriptor to write to (an RC4 payload) gets its blocks from buffers", async () => {
    const s = await seedingConnection(undefined, "mse-plaintext");
    try {
      const { conn, peer, uploader } = s;
      expect(conn.sendsFiles).toBe(false);
      for (let b = 0; b < 8; b++) expect(uploader.requested(peer, 0, b * BLOCK_SIZE, BLOCK_SIZE)).toBeNull();
      const messages = await s.received((m) => m.filter((x) => x.type === "piece").length === 8);
      expectBlocksRight(messages, content(), PIECE);
      expect(uploader.uploaded).toBe(8 * BLOCK_SIZE);
      expect(uploader.uploadedByFile).toBe(0);
    } finally {
      s.close();
    }
  }, 60_000);

  test("an upload limit sends exactly the burst, then exactly what each refill allows", async () => {
    const clock = { ms: 1_000 };
    const burst = 4 * BLOCK_SIZE;
    const s = await seedingConnection(new TokenBucket(8 * BLOCK_SIZE, { burst, now: () => clock.ms }));
    try {
      const { peer, uploader } = s;
      for (let b = 0; b < 32; b++) expect(uploader.requested(peer, b >> 4, (b & 15) * BLOCK_SIZE, BLOCK_SIZE)).toBeNull();
      await new Promise((r) => setTimeout(r, 50));
      expect(uploader.uploaded).toBe(burst);
      await new Promise((r) => setTimeout(r, 200)); // the clock stands still: nothing more
      expect(uploader.uploaded).toBe(burst);
      clock.ms += 250; // two blocks' worth
      for (let i = 0; i < 500 && uploader.uploaded === burst; i++) await new Promise((r) => setTimeout(r, 10));
      expect(uploader.uploaded).toBe(burst + 2 * BLOCK_SIZE);
      expect(uploader.uploadedByFile).toBe(uploader.uploaded);
      const messages = await s.received((m) => m.filter((x) => x.type === "piece").length === 6);
      expect(messages.filter((m) => m.type === "piece").map((m) => (m as { begin: number }).begin / BLOCK_SIZE)).toEqual([0, 1, 2, 3, 4, 5]);
      expectBlocksRight(messages, content(), PIECE);
    } finally {
      s.close();
    }
  }, 60_000);
});

describe("TorrentStorage.blockRegions", () => {
  test("gives a block's file ranges, and refuses one lying partly in a skipped file (its bytes are in the parts file)", () => {
    const meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
    const out = path.join(dir, "skipped-b");
    const storage = TorrentStorage.open(meta, out, { skipped: [false, true] });
    try {
      const bytes = content();
      // Piece 5 holds a.bin's last 3 blocks and 100 bytes, then b.bin's first bytes: b's part goes to the parts file.
      storage.writePiece(5, new Uint8Array(bytes.subarray(5 * PIECE, 6 * PIECE)));
      const seen: [number, number, number][] = [];
      expect(storage.blockRegions(5, 2 * BLOCK_SIZE, BLOCK_SIZE, (file, _fd, position, n) => void seen.push([file, position, n]))).toBe(true);
      expect(seen).toEqual([[0, 5 * PIECE + 2 * BLOCK_SIZE, BLOCK_SIZE]]);
      for (const [file] of seen) storage.releaseFile(file);
      seen.length = 0;
      expect(storage.blockRegions(5, 3 * BLOCK_SIZE, BLOCK_SIZE, (file, _fd, position, n) => void seen.push([file, position, n]))).toBe(false);
      for (const [file] of seen) storage.releaseFile(file);
      const block = new Uint8Array(BLOCK_SIZE);
      storage.readBlock(5, 3 * BLOCK_SIZE, BLOCK_SIZE, block, 0); // the buffer path still has it
      expect(Buffer.from(block).equals(bytes.subarray(5 * PIECE + 3 * BLOCK_SIZE, 5 * PIECE + 4 * BLOCK_SIZE))).toBe(true);
    } finally {
      storage.close();
    }
  });
});

describe.skipIf(!needs(PROGRAMS.libtorrent) || spliceOps() === null)("a btpeer seeder splicing from files", () => {
  test("serves libtorrent and btpeer leechers (MSE with plaintext payloads) from the files, an RC4 leecher from buffers", async () => {
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { name: "splicing seeder" });
    const length = 45 * PIECE + 3 * BLOCK_SIZE + 177;
    try {
      // One leecher after the other: with both at once, the seeder's PEX tells the btpeer leecher of
      // libtorrent, and whatever it fetched from libtorrent the seeder never uploads (its total stays short).
      const ltOut = path.join(dir, "lt-out");
      const lt = await startLtPeer({ mode: "download", torrent, dir: ltOut, noTrackers: true, peers: [seeder.address], name: "libtorrent leecher" });
      await lt.finished(120_000);
      await lt.stop();
      const btOut = path.join(dir, "bt-out");
      const bt = await startBtpeer(["download", torrent, "--out", btOut, "--no-seed", "--peer", seeder.address], { name: "btpeer leecher" });
      await bt.waitFor(isEvent("completed"), 120_000);
      expect(await bt.service.exited).toBe(0);
      const spliced = Number((await seeder.waitFor((e) => e.event === "progress" && Number(e.uploaded) >= 2 * length)).uploadedByFile);
      expect(spliced).toBeGreaterThanOrEqual(2 * length);
      const rc4Out = path.join(dir, "rc4-out");
      const rc4 = await startBtpeer(["download", torrent, "--out", rc4Out, "--no-seed", "--encryption", "require", "--peer", seeder.address], {
        name: "RC4 leecher",
      });
      await rc4.waitFor(isEvent("completed"), 120_000);
      expect(await rc4.service.exited).toBe(0);
      for (const out of [ltOut, btOut, rc4Out]) {
        for (const f of ["a.bin", "b.bin"]) expect(await sha256File(path.join(out, "set", f))).toBe(await sha256File(path.join(source, f)));
      }
    } finally {
      await seeder.stop();
    }
    const stopped = seeder.events().find(isEvent("stopped"))!;
    expect(Number(stopped.uploaded) - Number(stopped.uploadedByFile)).toBeGreaterThanOrEqual(length); // the RC4 leecher's bytes
  }, 200_000);
});
