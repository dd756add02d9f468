// Fuzz: edge/query.ts (the raw-byte query parser) and the parameter readers on top of it
// (edge/params.ts, parseAnnounce). Any string gives a RawQuery; reading from it yields bytes or a
// TrackerError with a known code and a message, never another exception. Decoded bytes match a
// plain reference decoder, and a parse with its reads allocates a bounded multiple of the query.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { bytesEqual, utf8 } from "../../shared/bytes.ts";
import { TrackerError } from "../../edge/errors.ts";
import { readCount, readId, readPort } from "../../edge/params.ts";
import { RawQuery } from "../../edge/query.ts";
import { parseAnnounce } from "../../edge/routes/announce.ts";
import { install, metered, uninstall } from "./alloc-meter.ts";
import { QUERY_TOKENS, queryCorpus } from "./corpus.ts";
import { fuzzSettings, fuzzTimeout, heapAfterGc, Mutator, runFuzz, type Rng } from "./fuzz-kit.ts";

const settings = fuzzSettings(4000);
const NAMES = ["info_hash", "peer_id", "port", "left", "uploaded", "downloaded", "event", "numwant", "compact", "ip", "key", "", "x"];

beforeAll(install);
afterAll(uninstall);

/** The query as a URL would carry it: bytes as Latin-1 characters, or sometimes as UTF-8 text. */
function asText(bytes: Uint8Array, rng: Rng): string {
  if (rng.chance(0.2)) return utf8.decode(bytes);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** What a value must decode to: %XX is a byte, + a space, other ASCII itself; null where it must be refused. */
function reference(value: string): Uint8Array | null {
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 37) {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (c === 43) out.push(32);
    else if (c < 128) out.push(c);
    else return null;
  }
  return Uint8Array.from(out);
}

/** The first value of each name, split the plain way (after dropping "?" and a fragment). */
function firstValues(search: string): Map<string, string> {
  let text = search.startsWith("?") ? search.slice(1) : search;
  if (text.includes("#")) text = text.slice(0, text.indexOf("#"));
  const out = new Map<string, string>();
  for (const part of text.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const name = reference(rawName);
    if (name === null) continue; // the parser refuses it; checked by the caller
    const key = String.fromCharCode(...name);
    if (!out.has(key)) out.set(key, eq < 0 ? "" : part.slice(eq + 1));
  }
  return out;
}

function expectTrackerError(error: unknown, what: string): void {
  if (!(error instanceof TrackerError)) throw new Error(`${what} threw something other than a TrackerError: ${String(error)}`, { cause: error });
  if (error.message === "" || !(error.status >= 400 && error.status < 500))
    throw new Error(`${what}: TrackerError ${error.code} with status ${error.status}, message "${error.message}"`);
}

function readEverything(query: RawQuery): void {
  for (const name of NAMES) {
    for (const read of [() => query.bytes(name), () => query.text(name), () => query.all(name), () => readCount(query, name, false)]) {
      try {
        read();
      } catch (error) {
        expectTrackerError(error, `reading ${name}`);
      }
    }
  }
  for (const read of [
    () => readId(query, "info_hash"),
    () => readId(query, "peer_id"),
    () => readPort(query),
    () => parseAnnounce(query, "127.0.0.1", 200, 50),
  ]) {
    try {
      read();
    } catch (error) {
      expectTrackerError(error, "a parameter reader");
    }
  }
}

function checkOne(input: Uint8Array, rng: Rng): void {
  const search = asText(input, rng);
  const run = metered(() => {
    let query: RawQuery;
    try {
      query = RawQuery.parse(search);
    } catch (error) {
      // A name that is not valid percent-encoding is refused at parse time.
      expectTrackerError(error, "RawQuery.parse");
      return;
    }
    readEverything(query);
    return query;
  });
  if (run.threw) throw run.error;
  // Each of the ~60 reads may decode its value once (bytes no longer than the text).
  if (run.bytes > 64 * (search.length + 64)) throw new Error(`parsing and reading allocated ${run.bytes} bytes for a ${search.length}-character query`);
  const query = run.value;
  if (!query) return;
  for (const [name, value] of firstValues(search)) {
    const want = reference(value);
    let got: Uint8Array | null;
    try {
      got = query.bytes(name) ?? null;
    } catch {
      got = null;
    }
    if (want === null ? got !== null : got === null || !bytesEqual(got, want)) {
      throw new Error(`the value of ${JSON.stringify(name)} decodes to ${got && [...got]}, expected ${want && [...want]}`);
    }
  }
  checkNumbers(query, firstValues(search));
}

/** What a reader gave: its value, or the code of the TrackerError it threw. */
function outcome(read: () => unknown): unknown {
  try {
    return { value: read() };
  } catch (error) {
    if (!(error instanceof TrackerError)) throw error;
    return { error: error.code };
  }
}

/**
 * The numeric readers (which read plain digits in place, without making the text) against their
 * definition on the decoded text: a count is 1 to 20 digits taken by Number(), a port 1 to 5 digits
 * within 1-65535; an empty optional count is absent, an empty `left` is refused.
 */
function checkNumbers(query: RawQuery, values: Map<string, string>): void {
  const decodedText = (name: string): string | undefined | null => {
    const raw = values.get(name);
    if (raw === undefined) return undefined;
    const bytes = reference(raw);
    return bytes === null ? null : String.fromCharCode(...bytes);
  };
  for (const name of ["left", "uploaded", "port", "numwant"]) {
    const text = decodedText(name);
    const required = name === "left";
    let expected: unknown;
    if (text === null) expected = { error: "bad-query-encoding" };
    else if (text === undefined) expected = required ? { error: "missing-param" } : { value: undefined };
    else if (text === "" && !required) expected = { value: undefined };
    else expected = /^\d{1,20}$/.test(text) ? { value: Number(text) } : { error: "bad-param" };
    expect(outcome(() => readCount(query, name, required))).toEqual(expected);
  }
  const port = decodedText("port");
  const portNumber = typeof port === "string" && /^\d{1,5}$/.test(port) ? Number(port) : 0;
  const expectedPort =
    port === null
      ? { error: "bad-query-encoding" }
      : port === undefined
        ? { error: "missing-param" }
        : portNumber >= 1 && portNumber <= 65535
          ? { value: portNumber }
          : { error: "bad-port" };
  expect(outcome(() => readPort(query))).toEqual(expectedPort);
}

test(
  "query: any query string parses into bytes or a TrackerError; values decode as a plain reference decoder says",
  async () => {
    const corpus = queryCorpus().map((q) => utf8.encode(q));
    const mutator = new Mutator(corpus, QUERY_TOKENS, 8192);
    const heapBefore = heapAfterGc();
    await runFuzz("query", settings, (rng) => mutator.next(rng), checkOne);
    expect(heapAfterGc() - heapBefore).toBeLessThan(256 * 1024 * 1024);
  },
  fuzzTimeout(settings),
);
