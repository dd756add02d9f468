// Fuzz: shared/bencode.ts over its scanner (bencode-scan.ts). Every input either decodes or throws a
// BencodeError with a known code, a message and an offset inside the input; nothing else escapes
// (no TypeError, RangeError or stack overflow from the package behind the scanner). A decode
// allocates at most a few times its input, whatever a length prefix claims. A strict decode of
// ASCII input is canonical: encoding the value gives the input back.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { BencodeError, decode, decodeDict, decodePrefix, encode, type BValue } from "../../shared/bencode.ts";
import { bytesEqual } from "../../shared/bytes.ts";
import { install, metered, uninstall } from "./alloc-meter.ts";
import { BENCODE_TOKENS, bencodeCorpus, torrentCorpus } from "./corpus.ts";
import { fuzzSettings, fuzzTimeout, heapAfterGc, Mutator, runFuzz } from "./fuzz-kit.ts";

const CODES = new Set([
  "empty",
  "truncated",
  "unexpected-byte",
  "bad-integer",
  "integer-too-large",
  "bad-string-length",
  "string-past-end",
  "bad-key",
  "forbidden-key",
  "unsorted-keys",
  "duplicate-key",
  "too-deep",
  "trailing-bytes",
]);

/** Copies of the input made by the package (two) and byte strings cut from it (at most one more). */
const allocationBound = (input: Uint8Array) => 4 * input.length + 4096;

const settings = fuzzSettings(4000);

beforeAll(install);
afterAll(uninstall);

/** Throws unless `outcome` is a value or a proper BencodeError for this input. */
function checkOutcome(input: Uint8Array, what: string, outcome: ReturnType<typeof metered>): void {
  if (outcome.bytes > allocationBound(input)) {
    throw new Error(`${what} allocated ${outcome.bytes} bytes for a ${input.length}-byte input`);
  }
  if (!outcome.threw) return;
  const error = outcome.error;
  if (!(error instanceof BencodeError)) throw new Error(`${what} threw something other than a BencodeError: ${String(error)}`, { cause: error });
  if (!CODES.has(error.code) || error.message === "" || error.offset < 0 || error.offset > input.length) {
    throw new Error(`${what}: a BencodeError without a known code, message or in-range offset: ${error.code} ${error.offset} ${error.message}`);
  }
}

function hasHighBytes(input: Uint8Array): boolean {
  return input.some((b) => b >= 0x80);
}

function checkOne(input: Uint8Array): void {
  const strict = metered(() => decode(input));
  checkOutcome(input, "decode", strict);
  if (!strict.threw && !hasHighBytes(input)) {
    const again = encode(strict.value as BValue);
    if (!bytesEqual(again, input)) throw new Error("a strict decode of ASCII input did not re-encode to the same bytes");
  }
  const lenient = metered(() => decode(input, { strictKeyOrder: false }));
  checkOutcome(input, "lenient decode", lenient);
  if (!strict.threw && lenient.threw) throw new Error("the lenient decode refused what the strict one accepted");
  const prefix = metered(() => decodePrefix(input, { maxDepth: 1000 }));
  checkOutcome(input, "decodePrefix", prefix);
  if (!prefix.threw) {
    const end = (prefix.value as { end: number }).end;
    if (end < 1 || end > input.length) throw new Error(`decodePrefix ended at ${end} in ${input.length} bytes`);
  }
  const dict = metered(() => decodeDict(input, { strictKeyOrder: false }));
  checkOutcome(input, "decodeDict", dict);
  if (!dict.threw) {
    for (const e of (dict.value as ReturnType<typeof decodeDict>).entries) {
      if (!(e.start <= e.end && e.end <= input.length)) throw new Error(`decodeDict gave the span ${e.start}..${e.end} in ${input.length} bytes`);
    }
  }
}

test(
  "bencode: every mutated input decodes or fails with a BencodeError; no decode allocates more than a few times its input",
  async () => {
    const mutator = new Mutator([...bencodeCorpus(), ...(await torrentCorpus())], BENCODE_TOKENS);
    const heapBefore = heapAfterGc();
    await runFuzz("bencode", settings, (rng) => mutator.next(rng), checkOne);
    // Nothing kept from the run: a generous bound that a leak per case would cross on a long run.
    expect(heapAfterGc() - heapBefore).toBeLessThan(256 * 1024 * 1024);
  },
  fuzzTimeout(settings),
);
