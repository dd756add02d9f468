// The Downloader's receiving path with real PeerConnections whose sockets are captured in memory: which
// blocks it takes (only those asked of that very peer, with the asked length), how blame for a failed piece
// finds the peer whose bytes were wrong (parole), and how a peer flapping choke/unchoke is cut off.
import { describe, expect, test } from "bun:test";
import { Bitfield } from "../../shared/bitfield.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { decodeMessage, encodeHandshake, encodeMessage, HANDSHAKE_LENGTH } from "../../shared/wire/codec.ts";
import { BLOCK_SIZE, type WireMessage } from "../../shared/wire/types.ts";
import { PeerConnection } from "../../peer/net/peer-connection.ts";
import { BufferPool } from "../../peer/pieces/pool.ts";
import { Downloader, MAX_CHOKES_PER_MINUTE } from "../../peer/pieces/downloader.ts";
import { MAX_UNREQUESTED_BLOCKS } from "../../peer/pieces/requests.ts";
import { SwarmPeer } from "../../peer/swarm/swarm-peer.ts";
import { fullBitfield } from "./scripted-peer.ts";

const PIECE = 4 * BLOCK_SIZE;
/** Lets the (immediately resolved) piece writes settle. */
const writesSettle = () => new Promise((resolve) => setTimeout(resolve, 0));
const PIECES = 4;
const INFO_HASH = new Uint8Array(20).fill(3);

type Request = Extract<WireMessage, { type: "request" }>;

function content(): Uint8Array {
  const bytes = new Uint8Array(PIECE * PIECES);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >>> 12)) & 0xff;
  return bytes;
}

/** A downloader for a 4-piece torrent, with `slots` pool slots, and peers on captured sockets. */
function swarm(slots = 1) {
  const data = content();
  const hashes = new Uint8Array(PIECES * 20);
  for (let i = 0; i < PIECES; i++) hashes.set(new Bun.CryptoHasher("sha1").update(data.subarray(i * PIECE, (i + 1) * PIECE)).digest() as Uint8Array, i * 20);
  const files = [{ path: ["data"], length: data.length, offset: 0 }];
  const meta = { pieceLength: PIECE, pieceCount: PIECES, length: data.length, pieceHashes: hashes, infoHash: INFO_HASH, files } as Metainfo;
  const peers: SwarmPeer[] = [];
  const events = {
    done: [] as number[],
    failed: [] as { index: number; senders: string[]; parole: boolean }[],
    banned: [] as SwarmPeer[],
    closed: new Map<SwarmPeer, string>(),
  };
  const pool = new BufferPool({ slotSize: PIECE, totalBytes: slots * PIECE });
  const downloader = new Downloader(
    meta,
    new Bitfield(PIECES),
    pool,
    { writePieceAsync: async () => {} },
    {
      peers: () => peers.values(),
      pieceDone: (index) => events.done.push(index),
      pieceFailed: (index, senders, parole) => events.failed.push({ index, senders: senders.map((p) => p.label), parole }),
      ban: (peer) => {
        events.banned.push(peer);
        peer.conn.close({ code: "banned" });
      },
      writeFailed: (error) => {
        throw error;
      },
    },
  );

  let nextIp = 1;
  /** A peer with `pieces` (all by default), on its own IP; `say` feeds it wire messages as if they came off its socket. */
  const addPeer = (pieces?: number[]) => {
    const written: Uint8Array[] = [];
    const socket = {
      write(bytes: Uint8Array, offset = 0, length = bytes.length - offset) {
        written.push(bytes.slice(offset, offset + length));
        return length;
      },
      end() {},
    };
    let peer!: SwarmPeer;
    const conn = new PeerConnection(
      socket,
      {
        ourPeerId: new Uint8Array(20).fill(1),
        listenPort: 0,
        outgoing: true,
        address: { ip: `10.0.0.${nextIp++}`, port: 6881 },
        torrent: { infoHash: INFO_HASH, pieceCount: PIECES, ourPieces: () => downloader.have },
      },
      {
        onHandshake: () => null,
        // What the torrent does with these messages (torrent/peer-messages.ts).
        onMessage(_conn, m) {
          if (m.type === "piece") downloader.blockReceived(peer, m.index, m.begin, m.block);
          else if (m.type === "bitfield") downloader.bitfieldReceived(peer, null);
          else if (m.type === "unchoke") downloader.fill(peer);
          else if (m.type === "choke") downloader.choked(peer);
          else if (m.type === "have") downloader.haveReceived(peer, m.index);
        },
        onDrain() {},
        onClose(_conn, reason) {
          events.closed.set(peer, reason);
          peers.splice(peers.indexOf(peer), 1);
          downloader.peerRemoved(peer);
        },
      },
    );
    peer = new SwarmPeer(conn, 1024);
    peers.push(peer);
    const say = (...messages: WireMessage[]) => {
      const frames = messages.map((m) => encodeMessage(m));
      const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
      frames.reduce((at, f) => (all.set(f, at), at + f.length), 0);
      conn.receive(all);
    };
    conn.receive(encodeHandshake({ reserved: new Uint8Array(8), infoHash: INFO_HASH, peerId: new Uint8Array(20).fill(nextIp) }));
    const bits = new Bitfield(PIECES);
    for (const i of pieces ?? [0, 1, 2, 3]) bits.set(i);
    say({ type: "bitfield", bits: pieces ? bits.bytes : fullBitfield(PIECES) });
    let seen = 0;
    /** Requests written to this peer since the last call. */
    const requests = (): Request[] => {
      const all = new Uint8Array(written.reduce((n, b) => n + b.length, 0));
      written.reduce((at, b) => (all.set(b, at), at + b.length), 0);
      const out: Request[] = [];
      for (let offset = HANDSHAKE_LENGTH; offset < all.length; ) {
        const d = decodeMessage(all, offset, { pieceCount: PIECES });
        if (!("value" in d)) break;
        if (d.value.type === "request") out.push(d.value);
        offset += d.size;
      }
      const fresh = out.slice(seen);
      seen = out.length;
      return fresh;
    };
    const block = (r: { index: number; begin: number; length: number }, wrong = false): WireMessage => {
      const bytes = data.slice(r.index * PIECE + r.begin, r.index * PIECE + r.begin + r.length);
      if (wrong) bytes.fill(0xee);
      return { type: "piece", index: r.index, begin: r.begin, block: bytes };
    };
    return { peer, say, requests, block };
  };
  return { downloader, events, addPeer };
}

describe("Downloader: which blocks it takes", () => {
  test("a block from a peer that was not asked for it is dropped, however it is labelled; the one asked answers for it", () => {
    const { downloader, events, addPeer } = swarm();
    const a = addPeer();
    const b = addPeer();
    a.say({ type: "unchoke" });
    const asked = a.requests();
    expect(asked).toHaveLength(4); // one slot: the four blocks of one piece
    b.say(...asked.map((r) => b.block(r, true))); // b was never asked: its (wrong) blocks must not land
    expect(downloader.downloaded).toBe(0);
    expect(events.closed.has(b.peer)).toBe(false); // a few strays are tolerated
    a.say(...asked.map((r) => a.block(r)));
    expect(events.failed).toEqual([]);
    expect(downloader.downloaded).toBe(PIECE);
  });

  test("a peer that keeps sending blocks nobody asked for is disconnected", () => {
    const { downloader, events, addPeer } = swarm();
    const a = addPeer();
    const b = addPeer();
    a.say({ type: "unchoke" });
    const asked = a.requests();
    const strays = Array.from({ length: MAX_UNREQUESTED_BLOCKS + 1 }, (_, i) =>
      b.block({ index: asked[0]!.index, begin: (i % 4) * BLOCK_SIZE, length: BLOCK_SIZE }, true),
    );
    b.say(...strays);
    expect(events.closed.get(b.peer)).toMatch(/^protocol error: sent \d+ blocks or rejects nobody asked for/);
    expect(downloader.unrequestedBlocks).toBe(MAX_UNREQUESTED_BLOCKS + 1);
    expect(downloader.downloaded).toBe(0);
  });

  test("a block that arrives after the peer choked us (its request given up) is late, not hostile", () => {
    const { downloader, events, addPeer } = swarm();
    const a = addPeer();
    a.say({ type: "unchoke" });
    const asked = a.requests();
    a.say({ type: "choke" }, ...asked.map((r) => a.block(r)));
    expect(downloader.unrequestedBlocks).toBe(0);
    expect(events.closed.has(a.peer)).toBe(false);
  });

  test("a block of the wrong length closes the peer before anything changes, and the block is asked of the next peer", async () => {
    const { downloader, events, addPeer } = swarm();
    const a = addPeer();
    a.say({ type: "unchoke" });
    const [first] = a.requests();
    a.say({ type: "piece", index: first!.index, begin: first!.begin, block: new Uint8Array(first!.length - 1) });
    expect(events.closed.get(a.peer)).toBe(`protocol error: block ${first!.index}:${first!.begin} of ${first!.length - 1} bytes, ${first!.length} asked for`);
    expect(downloader.downloaded).toBe(0);
    const b = addPeer();
    b.say({ type: "unchoke" });
    const again = b.requests();
    expect(again).toContainEqual(first!);
    b.say(...again.map((r) => b.block(r)));
    await writesSettle();
    expect(events.done).toEqual([first!.index]);
  });
});

describe("Downloader: blame for a failed piece", () => {
  test("a piece with wrong blocks from one peer and right ones from another is fetched again from one peer; only the peer whose blocks were wrong is struck, then banned", async () => {
    const { events, addPeer } = swarm();
    // Both have piece 0 only at first (so it is the one fetched), piece 1 from round 2.
    const bad = addPeer([0]);
    const good = addPeer([0]);
    for (const index of [0, 1]) {
      // bad gets the piece's four requests, answers two wrongly, then chokes us: good is asked for the other two.
      bad.say({ type: "unchoke" });
      const asked = bad.requests();
      expect(asked.map((r) => r.index)).toEqual([index, index, index, index]);
      bad.say(...asked.slice(0, 2).map((r) => bad.block(r, true)), { type: "choke" });
      good.say({ type: "unchoke" });
      const rest = good.requests();
      expect(rest).toEqual(asked.slice(2));
      good.say(...rest.map((r) => good.block(r)));
      // Several senders: nobody is struck yet; the piece is on parole, fetched again from good alone.
      expect(events.failed.at(-1)).toEqual({ index, senders: [bad.peer.label, good.peer.label], parole: true });
      expect(events.banned).toEqual([]);
      const parole = good.requests();
      expect(parole).toEqual(asked);
      bad.say({ type: "unchoke" });
      expect(bad.requests()).toEqual([]); // good has it on parole
      bad.say({ type: "choke" });
      good.say(...parole.map((r) => good.block(r)), { type: "choke" });
      await writesSettle();
      expect(events.done.at(-1)).toBe(index);
      // The verified piece shows whose blocks were wrong: bad's. Its second such piece bans it.
      expect(events.banned.map((p) => p.label)).toEqual(index === 1 ? [bad.peer.label] : []);
      bad.say({ type: "have", index: 1 });
      good.say({ type: "have", index: 1 });
    }
    expect(events.closed.get(bad.peer)).toBe("banned");
    expect(events.closed.has(good.peer)).toBe(false);
  });

  test("a piece on parole that fails again comes from its one peer alone: that peer is struck", () => {
    const { events, addPeer } = swarm();
    const bad = addPeer([0]);
    const good = addPeer([0]);
    bad.say({ type: "unchoke" });
    const asked = bad.requests();
    bad.say(bad.block(asked[0]!, true), { type: "choke" });
    good.say({ type: "unchoke" });
    good.say(...good.requests().map((r) => good.block(r)));
    expect(events.failed.at(-1)?.parole).toBe(true);
    expect(good.requests()).toHaveLength(4); // the parole fetch goes to good...
    good.say({ type: "choke" }); // ...which steps away: the fetch starts over, and bad gets it
    bad.say({ type: "unchoke" });
    const parole = bad.requests();
    expect(parole).toHaveLength(4);
    bad.say(...parole.map((r) => bad.block(r, true)));
    expect(events.failed.at(-1)).toEqual({ index: asked[0]!.index, senders: [bad.peer.label], parole: false });
    expect(events.banned).toEqual([]); // one strike so far
  });
});

describe("Downloader: a choke/unchoke storm", () => {
  test(`a peer choking us more than ${MAX_CHOKES_PER_MINUTE} times a minute is disconnected, having been sent a bounded number of requests`, () => {
    const { events, addPeer } = swarm(8);
    const a = addPeer();
    const storm: WireMessage[] = [];
    for (let i = 0; i < 1_000; i++) storm.push({ type: "unchoke" }, { type: "choke" });
    a.say(...storm);
    expect(events.closed.get(a.peer)).toBe(`protocol error: choked us ${MAX_CHOKES_PER_MINUTE + 1} times in a minute`);
    expect(a.requests().length).toBeLessThanOrEqual((MAX_CHOKES_PER_MINUTE + 1) * 16);
  });
});
