// The picker's choice of new pieces as a torrent grows: the time to start every piece of a torrent of
// 1,024, 4,096 and 16,384 pieces, per piece started (the median download: 16,384 pieces 5 times, the
// smaller ones more often), with a seed and 20 peers holding 60% each (so a peer's own pieces narrow the
// choice) and 32 pieces under way at a time. A choice that scans every piece costs 4x per pick at 4x the
// pieces (quadratic over a download); the ratio column shows it.
//
//   bun bench/picker.ts [--rounds N] [--json]
import { Bitfield } from "../shared/bitfield.ts";
import { BLOCK_SIZE } from "../shared/wire/types.ts";
import { PiecePicker, type PickerPeer } from "../peer/pieces/picker.ts";
import { PiecePriority } from "../peer/pieces/wanted.ts";
import { formatTable, medianOf, rowsAsJson, type Row } from "../peer/bench/table.ts";

const args = process.argv.slice(2);
const roundsAt = args.indexOf("--rounds");
const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 5;
const json = args.includes("--json");

const SIZES = [1024, 4096, 16384];
const PEERS = 20;
const SHARE = 0.6;
const UNDER_WAY = 32;

type Mode = "rarest first" | "sequential" | "rarest first, half the pieces high";

/** A small deterministic generator: every round and size sees swarms of the same shape. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function swarm(pieceCount: number): PickerPeer[] {
  const random = lcg(pieceCount);
  const peers: PickerPeer[] = [];
  const seed = new Bitfield(pieceCount);
  for (let i = 0; i < pieceCount; i++) seed.set(i);
  peers.push({ id: 0, peerPieces: seed, outstanding: new Set() });
  for (let id = 1; id <= PEERS; id++) {
    const pieces = new Bitfield(pieceCount);
    for (let i = 0; i < pieceCount; i++) if (random() < SHARE) pieces.set(i);
    peers.push({ id, peerPieces: pieces, outstanding: new Set() });
  }
  return peers;
}

function cpuMicroseconds(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** CPU milliseconds to start every piece (one block each), the peers asking in turn; pieces are verified oldest first. */
function downloadAll(pieceCount: number, mode: Mode): number {
  const geometry = { pieceCount, pieceLength: BLOCK_SIZE, length: pieceCount * BLOCK_SIZE };
  const have = new Bitfield(pieceCount);
  const picker = new PiecePicker<object>(geometry, have);
  if (mode === "sequential") picker.sequential = true;
  if (mode === "rarest first, half the pieces high") {
    const priority = new Uint8Array(pieceCount).fill(PiecePriority.Normal);
    for (let i = pieceCount / 2; i < pieceCount; i++) priority[i] = PiecePriority.High;
    picker.setPriorities(priority);
  }
  const peers = swarm(pieceCount);
  for (const peer of peers) picker.addPeerPieces(peer.peerPieces);
  const payload = {};
  const start = () => payload;
  const out: number[] = [];
  const underWay: number[] = [];
  let turn = 0;
  // CPU time, not wall time: on a machine shared with other work the process waits for a core now and then,
  // which says nothing of the picker (and would swamp a download that takes a millisecond).
  const began = cpuMicroseconds();
  // Bounded: every turn starts a piece or verifies one, so 2 turns per piece always suffice.
  for (let steps = 0; have.count() < pieceCount && steps < 4 * pieceCount; steps++) {
    const peer = peers[turn++ % peers.length]!;
    out.length = 0;
    picker.pick(peer, 1, start, out);
    for (const key of out) {
      const { index, block } = picker.splitKey(key);
      if (picker.blockReceived(index, block, peer)) underWay.push(index);
    }
    if (underWay.length > UNDER_WAY || (out.length === 0 && underWay.length > 0)) picker.pieceVerified(underWay.shift()!);
  }
  const ms = (cpuMicroseconds() - began) / 1000;
  if (have.count() !== pieceCount) throw new Error(`${mode}, ${pieceCount} pieces: only ${have.count()} verified`);
  return ms;
}

const rows: Row[] = [];
for (const mode of ["rarest first", "sequential", "rarest first, half the pieces high"] as Mode[]) {
  for (let i = 0; i < 20; i++) downloadAll(SIZES[0]!, mode); // warm-up: the JIT compiles the picker first
  let smallest = 0;
  for (const size of SIZES) {
    // Smaller torrents are downloaded more times: the median of many is steady despite a GC or another
    // process taking the core during one of them.
    const times = rounds * (SIZES.at(-1)! / size);
    const perPiece = ((await medianOf(times, () => downloadAll(size, mode))) * 1000) / size;
    rows.push({
      figure: `${mode}: choosing a piece, ${size.toLocaleString("en-US")} pieces`,
      value: perPiece,
      unit: "µs",
      reference: size === SIZES[0] ? { note: "the base" } : { label: `${SIZES[0]!.toLocaleString("en-US")} pieces`, value: smallest },
      target: size === SIZES[0] ? "" : `~1× (linear: ${size / SIZES[0]!}×)`,
    });
    if (size === SIZES[0]) smallest = perPiece;
  }
}
console.log(json ? rowsAsJson(rows) : formatTable(rows));
