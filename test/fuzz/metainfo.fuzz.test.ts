// Fuzz: shared/metainfo/parse.ts. Every input is either a Metainfo whose invariants hold (one SHA-1
// per piece, lengths and offsets consistent, safe unique paths, the info hash of the info bytes found
// in the file) or a MetainfoError with a known code and a message. Anything else thrown, or a parse
// allocating far more than its input, is a failure.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { bytesEqual, toHex } from "../../shared/bytes.ts";
import { MetainfoError } from "../../shared/metainfo/errors.ts";
import { MAX_PIECE_LENGTH, parseMetainfo } from "../../shared/metainfo/parse.ts";
import { checkPathComponent } from "../../shared/metainfo/paths.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { install, metered, uninstall } from "./alloc-meter.ts";
import { BENCODE_TOKENS, torrentCorpus } from "./corpus.ts";
import { fuzzSettings, fuzzTimeout, heapAfterGc, Mutator, runFuzz, type Rng } from "./fuzz-kit.ts";
import { mutateTree } from "./tree-mutator.ts";

const CODES = new Set([
  "bencode",
  "not-a-dict",
  "missing-info",
  "bad-name",
  "bad-piece-length",
  "bad-pieces",
  "bad-length",
  "bad-files",
  "unsafe-path",
  "duplicate-path",
  "empty-torrent",
  "v2-only",
]);

const settings = fuzzSettings(3000);

beforeAll(install);
afterAll(uninstall);

function fail(message: string): never {
  throw new Error(`parsed, but ${message}`);
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** What every parsed torrent must satisfy, whatever bytes it came from. */
function checkInvariants(input: Uint8Array, m: Metainfo): void {
  if (!Number.isSafeInteger(m.pieceLength) || m.pieceLength < 1 || m.pieceLength > MAX_PIECE_LENGTH) fail(`piece length ${m.pieceLength}`);
  if (!Number.isSafeInteger(m.length) || m.length < 1) fail(`total length ${m.length}`);
  if (m.pieceCount !== Math.ceil(m.length / m.pieceLength)) fail(`${m.pieceCount} pieces for ${m.length} bytes in pieces of ${m.pieceLength}`);
  if (m.pieceHashes.length !== m.pieceCount * 20) fail(`${m.pieceHashes.length} bytes of hashes for ${m.pieceCount} pieces`);
  if (m.name === "") fail("the name is empty");
  let offset = 0;
  const paths = new Set<string>();
  for (const f of m.files) {
    if (f.offset !== offset || !Number.isSafeInteger(f.length) || f.length < 0) fail(`file at ${f.offset} (expected ${offset}), length ${f.length}`);
    offset += f.length;
    if (f.path.length === 0) fail("a file has no path");
    for (const c of f.path) checkPathComponent(c, "fuzz: path component");
    const key = f.path.join("/");
    if (paths.has(key)) fail(`the path ${key} is listed twice`);
    paths.add(key);
  }
  if (offset !== m.length) fail(`files add up to ${offset}, length says ${m.length}`);
  if (!m.multiFile && (m.files.length !== 1 || m.files[0]!.path.join("/") !== m.name)) fail("a single-file torrent does not hold one file named after it");
  if (!bytesEqual(m.infoHash, createHash("sha1").update(m.infoBytes).digest())) fail("the info hash is not the SHA-1 of the info bytes");
  if (indexOfBytes(input, m.infoBytes) < 0) fail("the info bytes are not in the file");
}

function checkOne(input: Uint8Array): void {
  const outcome = metered(() => parseMetainfo(input));
  // The decode's copies (see the bencode target) plus the info bytes and the hashes.
  if (outcome.bytes > 6 * input.length + 4096) throw new Error(`parse allocated ${outcome.bytes} bytes for a ${input.length}-byte input`);
  if (!outcome.threw) return checkInvariants(input, outcome.value as Metainfo);
  const error = outcome.error;
  if (!(error instanceof MetainfoError)) throw new Error(`threw something other than a MetainfoError: ${String(error)}`, { cause: error });
  if (!CODES.has(error.code) || error.message === "") throw new Error(`a MetainfoError without a known code or a message: ${error.code} "${error.message}"`);
}

test(
  "metainfo: every mutated torrent parses into a consistent Metainfo or fails with a MetainfoError",
  async () => {
    const corpus = await torrentCorpus();
    // The corpus itself parses, so mutations start from torrents that reach every check.
    for (const torrent of corpus) expect(toHex(parseMetainfo(torrent).infoHash)).toHaveLength(40);
    const mutator = new Mutator(corpus, BENCODE_TOKENS);
    const heapBefore = heapAfterGc();
    // Half byte mutations (the bencode layer), half tree mutations (the checks behind it).
    const generate = (rng: Rng) => (rng.chance(0.5) ? mutator.next(rng) : mutateTree(rng.pick(corpus), rng));
    await runFuzz("metainfo", settings, generate, checkOne);
    expect(heapAfterGc() - heapBefore).toBeLessThan(256 * 1024 * 1024);
  },
  fuzzTimeout(settings),
);
