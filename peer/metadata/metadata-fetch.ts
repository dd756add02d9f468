// Fetching a torrent's info dictionary from peers (ut_metadata, BEP 9) for a magnet link: 16 KiB pieces,
// requests spread over the peers that have it (a few outstanding per peer), each with a deadline; a reject
// or a timeout sends the piece to another peer. Peers are grouped by the size they announce, so a peer
// lying about it cannot stall the others. No byte is trusted before the assembled dictionary's SHA-1 is
// the info hash; on a mismatch the senders are blamed as for pieces (metadata-blame.ts). No sockets here:
// the caller sends what `hooks.request` asks and feeds back what peers answer.
import { bytesEqual } from "../../shared/bytes.ts";
import { isAcceptableMetadataSize, MAX_METADATA_SIZE, METADATA_PIECE, metadataPieceCount } from "../../shared/wire/ut-metadata.ts";
import { MetadataBlame } from "./metadata-blame.ts";

/** What the fetch needs of a peer: who it is, for blame and the caller's bookkeeping. */
export interface MetadataSource {
  readonly id: number;
  readonly label: string;
}

export interface MetadataFetchHooks<P extends MetadataSource> {
  /** Send a ut_metadata `request` for `piece` to `peer`. */
  request(peer: P, piece: number): void;
  /** The info dictionary, its SHA-1 checked against the info hash. */
  verified(infoBytes: Uint8Array): void;
  /** An assembled dictionary failed its hash; `parole`: several sent it, so it is fetched again from one peer. */
  failed(senders: P[], parole: boolean): void;
  /** `peer` is proven to have sent wrong metadata. */
  ban(peer: P, reason: string): void;
}

/** Requests one peer may have outstanding at once. */
export const MAX_REQUESTS_PER_PEER = 2;
/** A request not answered by then goes to another peer. */
export const METADATA_REQUEST_TIMEOUT_MS = 10_000;
/** A peer that rejected a request is not asked again for this long. */
const REJECT_BACKOFF_MS = 30_000;

type PieceState<P> = { state: "missing" } | { state: "asked"; peer: P; at: number } | { state: "have"; data: Uint8Array; sender: P };

interface SourceState<P> {
  peer: P;
  size: number;
  /** Pieces asked of it and not answered. */
  readonly outstanding: Set<number>;
  /** Pieces asked of it that timed out: a late answer is dropped, not held against it. */
  readonly late: Set<number>;
  /** Not asked before this time (it rejected a request). */
  restUntil: number;
  /** Requests of its that timed out: a peer that lets them lapse is asked only when nobody else can be. */
  timeouts: number;
}

/** One candidate info dictionary: the pieces of a given size, from the peers that announce that size. */
class Assembly<P> {
  readonly pieces: PieceState<P>[];
  received = 0;

  constructor(readonly size: number) {
    this.pieces = Array.from({ length: metadataPieceCount(size) }, () => ({ state: "missing" }) as PieceState<P>);
  }

  /** Drops what arrived (a failed check, or a solo fetch that lost its peer). */
  reset(): void {
    for (let i = 0; i < this.pieces.length; i++) if (this.pieces[i]!.state === "have") this.pieces[i] = { state: "missing" };
    this.received = 0;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    this.pieces.forEach((p, i) => {
      if (p.state === "have") out.set(p.data, i * METADATA_PIECE);
    });
    return out;
  }
}

export type MetadataAnswer = { ok: true } | { ok: false; problem: string };

export class MetadataFetch<P extends MetadataSource> {
  private readonly sources = new Map<number, SourceState<P>>();
  private readonly assemblies = new Map<number, Assembly<P>>();
  private readonly blame = new Map<number, MetadataBlame<P>>();
  private done = false;

  constructor(
    private readonly infoHash: Uint8Array,
    private readonly hooks: MetadataFetchHooks<P>,
    private readonly sha1: (bytes: Uint8Array) => Uint8Array,
  ) {}

  /**
   * The peer's extension handshake says it has the metadata, of `size` bytes. A size no torrent we accept
   * can have is the peer's problem (the caller drops it). A repeated handshake may change the size.
   */
  addSource(peer: P, size: number): MetadataAnswer {
    if (!isAcceptableMetadataSize(size)) return { ok: false, problem: `metadata_size ${size} is not 1..${MAX_METADATA_SIZE}` };
    const known = this.sources.get(peer.id);
    if (known?.size === size) return { ok: true };
    if (known) this.removeSource(peer);
    this.sources.set(peer.id, { peer, size, outstanding: new Set(), late: new Set(), restUntil: 0, timeouts: 0 });
    if (!this.assemblies.has(size)) this.assemblies.set(size, new Assembly(size));
    this.fill(Date.now());
    return { ok: true };
  }

  /** The peer left: what it was asked goes to others; a solo fetch from it starts over. */
  removeSource(peer: P): void {
    const source = this.sources.get(peer.id);
    if (!source) return;
    this.sources.delete(peer.id);
    const assembly = this.assemblies.get(source.size)!;
    for (const piece of source.outstanding) assembly.pieces[piece] = { state: "missing" };
    this.dropSolo(source);
    if (!this.done) this.fill(Date.now());
  }

  /** A `data` message from `peer`. A problem means the peer broke the protocol (the caller drops it). */
  data(peer: P, piece: number, totalSize: number, data: Uint8Array, now = Date.now()): MetadataAnswer {
    const source = this.sources.get(peer.id);
    if (this.done) return { ok: true }; // an answer to a request made before the dictionary was complete
    if (!source) return { ok: false, problem: `ut_metadata data for piece ${piece}, but it announced no metadata_size` };
    if (totalSize !== source.size) return { ok: false, problem: `ut_metadata total_size ${totalSize} differs from its metadata_size ${source.size}` };
    if (!source.outstanding.delete(piece)) {
      if (source.late.delete(piece)) return { ok: true };
      return { ok: false, problem: `ut_metadata data for piece ${piece}, which was not asked of it` };
    }
    const assembly = this.assemblies.get(source.size)!;
    assembly.pieces[piece] = { state: "have", data: data.slice(), sender: peer };
    assembly.received++;
    if (assembly.received === assembly.pieces.length) this.check(assembly);
    if (!this.done) this.fill(now);
    return { ok: true };
  }

  /** A `reject`: the piece goes to another peer, and this one rests a while. */
  reject(peer: P, piece: number, now = Date.now()): void {
    const source = this.sources.get(peer.id);
    if (!source) return;
    if (!source.outstanding.delete(piece)) return;
    this.assemblies.get(source.size)!.pieces[piece] = { state: "missing" };
    source.restUntil = now + REJECT_BACKOFF_MS;
    this.dropSolo(source);
    this.fill(now);
  }

  /** Once a second: requests past their deadline go to other peers. */
  tick(now: number): void {
    if (this.done) return;
    for (const source of this.sources.values()) {
      const assembly = this.assemblies.get(source.size)!;
      for (const piece of [...source.outstanding]) {
        const state = assembly.pieces[piece]!;
        if (state.state !== "asked" || now - state.at < METADATA_REQUEST_TIMEOUT_MS) continue;
        source.outstanding.delete(piece);
        source.late.add(piece);
        source.timeouts++;
        assembly.pieces[piece] = { state: "missing" };
        this.dropSolo(source);
      }
    }
    this.fill(now);
  }

  /** A solo peer (on parole) that stops answering is replaced, and what it sent so far dropped. */
  private dropSolo(source: SourceState<P>): void {
    if (this.blame.get(source.size)?.soloLeft(source.peer)) this.assemblies.get(source.size)!.reset();
  }

  /** Pieces received of the most advanced candidate, and its piece count (null: no peer told a size yet). */
  progress(): { received: number; total: number | null } {
    let best: Assembly<P> | null = null;
    for (const a of this.assemblies.values()) if (!best || a.received > best.received) best = a;
    return { received: best?.received ?? 0, total: best ? best.pieces.length : null };
  }

  /** Asks idle peers for missing pieces: the least busy peer first, one that let a request lapse last. */
  private fill(now: number): void {
    for (const assembly of this.assemblies.values()) {
      const blame = this.blame.get(assembly.size);
      for (let piece = 0; piece < assembly.pieces.length; piece++) {
        if (assembly.pieces[piece]!.state !== "missing") continue;
        const source = this.pick(assembly.size, now, blame);
        if (!source) break;
        source.outstanding.add(piece);
        source.late.delete(piece);
        assembly.pieces[piece] = { state: "asked", peer: source.peer, at: now };
        this.hooks.request(source.peer, piece);
      }
    }
  }

  private pick(size: number, now: number, blame: MetadataBlame<P> | undefined): SourceState<P> | null {
    // A peer that let a request lapse is asked only while no peer of this size has a clean record, busy or not.
    let clean = false;
    for (const source of this.sources.values()) if (source.size === size && source.timeouts === 0) clean = true;
    let best: SourceState<P> | null = null;
    for (const source of this.sources.values()) {
      if (source.size !== size || source.outstanding.size >= MAX_REQUESTS_PER_PEER || source.restUntil > now) continue;
      if (clean && source.timeouts > 0) continue;
      if (blame && !blame.mayAsk(source.peer, (p) => this.sources.has(p.id))) continue;
      if (!best || source.timeouts < best.timeouts || (source.timeouts === best.timeouts && source.outstanding.size < best.outstanding.size)) best = source;
    }
    return best;
  }

  private check(assembly: Assembly<P>): void {
    const bytes = assembly.bytes();
    const senders = assembly.pieces.map((p) => (p.state === "have" ? p.sender : undefined));
    let blame = this.blame.get(assembly.size);
    if (bytesEqual(this.sha1(bytes), this.infoHash)) {
      this.done = true;
      for (const peer of blame?.verified(bytes) ?? []) this.hooks.ban(peer, "sent metadata that failed the info hash check");
      this.hooks.verified(bytes);
      return;
    }
    assembly.reset();
    if (!blame) this.blame.set(assembly.size, (blame = new MetadataBlame()));
    const verdict = blame.failed(senders, bytes);
    this.hooks.failed(verdict.senders, verdict.parole);
    for (const peer of verdict.guilty) {
      this.removeSource(peer);
      this.hooks.ban(peer, "sent metadata that failed the info hash check");
    }
  }
}
