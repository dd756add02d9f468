// Query strings parsed into raw bytes. `info_hash` and `peer_id` are percent-encoded binary: a
// generic helper (URLSearchParams, c.req.query) decodes them as UTF-8 and replaces invalid
// sequences, corrupting them, so every value here stays bytes until a parameter reader decides.
import { TrackerError } from "./errors.ts";

/** Per parameter in RawQuery.bounds: where its name starts and ends, where its value starts and ends. */
const NAME_START = 0;
const NAME_END = 1;
const VALUE_START = 2;
const VALUE_END = 3;
const STRIDE = 4;

export class RawQuery {
  /**
   * Nothing is copied out of the text: a parameter is four offsets into it (`bounds`, STRIDE numbers
   * each, in query order) and values are decoded from there when read, a request reading each at
   * most once. Looking a name up compares characters in place. A substring made per name, or a Map
   * keyed by one, cost more than the whole scan: a key must be made a string of its own to be hashed.
   */
  private constructor(
    private readonly source: string,
    /** Sized for one parameter per "&" and one more; the first `used` entries are filled. */
    private readonly bounds: Int32Array,
    private readonly used: number,
    /** The decoded name of each parameter whose name had escapes (by parameter number); null when none had. */
    private readonly decodedNames: Array<string | undefined> | null,
  ) {}

  /** Parses the part of a URL after "?" (a leading "?" and any "#fragment" are ignored). */
  static parse(search: string): RawQuery {
    const end = search.indexOf("#");
    return RawQuery.scan(search, 0, end < 0 ? search.length : end);
  }

  /**
   * Parses the query of a full request URL (rawSearch's part) in place: without building a URL object,
   * which would re-encode it, and without cutting the query out of the URL first.
   */
  static fromUrl(url: string): RawQuery {
    const q = url.indexOf("?");
    if (q < 0) return RawQuery.scan(url, url.length, url.length);
    const end = url.indexOf("#", q);
    return RawQuery.scan(url, q + 1, end < 0 ? url.length : end);
  }

  /** The parameters of `source` from `start` to `end` (a leading "?" there is skipped, as parse does). */
  private static scan(source: string, start: number, end: number): RawQuery {
    let at = start < end && source.charCodeAt(start) === 63 /* ? */ ? start + 1 : start;
    // One typed array of the right size, counted first: an array grown by push() is reallocated
    // several times for an announce's ten parameters, garbage the server's collector then meets.
    let params = 1;
    for (let amp = source.indexOf("&", at); amp >= 0 && amp < end; amp = source.indexOf("&", amp + 1)) params++;
    const bounds = new Int32Array(params * STRIDE);
    let used = 0;
    let decodedNames: Array<string | undefined> | null = null;
    while (at < end) {
      let amp = source.indexOf("&", at);
      if (amp < 0 || amp > end) amp = end;
      if (amp > at) {
        let eq = source.indexOf("=", at);
        if (eq < 0 || eq > amp) eq = amp;
        if (!isPlain(source, at, eq)) {
          decodedNames ??= [];
          decodedNames[used / STRIDE] = latin1(percentDecode(source, "parameter name", at, eq));
        }
        bounds[used + NAME_START] = at;
        bounds[used + NAME_END] = eq;
        bounds[used + VALUE_START] = eq < amp ? eq + 1 : amp;
        bounds[used + VALUE_END] = amp;
        used += STRIDE;
      }
      at = amp + 1;
    }
    return new RawQuery(source, bounds, used, decodedNames);
  }

  has(name: string): boolean {
    return this.find(name, 0) >= 0;
  }

  /** Every value of a repeated parameter (e.g. `info_hash` in a scrape). */
  all(name: string): Uint8Array[] {
    const values: Uint8Array[] = [];
    for (let p = this.find(name, 0); p >= 0; p = this.find(name, p + STRIDE)) {
      values.push(percentDecode(this.source, name, this.bounds[p + VALUE_START]!, this.bounds[p + VALUE_END]!));
    }
    return values;
  }

  /** The first value still percent-encoded, or undefined when absent (for readers that decode as they go). */
  escaped(name: string): string | undefined {
    const p = this.find(name, 0);
    return p < 0 ? undefined : this.source.slice(this.bounds[p + VALUE_START]!, this.bounds[p + VALUE_END]!);
  }

  /** The first value, or undefined when absent. */
  bytes(name: string): Uint8Array | undefined {
    const p = this.find(name, 0);
    return p < 0 ? undefined : percentDecode(this.source, name, this.bounds[p + VALUE_START]!, this.bounds[p + VALUE_END]!);
  }

  /**
   * The first value decoded into `out` (see percentDecodeInto): its decoded length, which may exceed
   * `out`'s, or undefined when absent. No array is made: ids go straight from the URL into a buffer.
   */
  decodeInto(name: string, out: Uint8Array): number | undefined {
    const p = this.find(name, 0);
    return p < 0 ? undefined : percentDecodeInto(this.source, this.bounds[p + VALUE_START]!, this.bounds[p + VALUE_END]!, out, name);
  }

  /** The first value as text (bytes taken as Latin-1, so nothing is lost), or undefined. */
  text(name: string): string | undefined {
    const p = this.find(name, 0);
    if (p < 0) return undefined;
    const start = this.bounds[p + VALUE_START]!;
    const end = this.bounds[p + VALUE_END]!;
    return isPlain(this.source, start, end) ? this.source.slice(start, end) : latin1(percentDecode(this.source, name, start, end));
  }

  /**
   * Which of `choices` the first value is, compared in place (no string made): its index, or -1 when
   * the value is absent, escaped or none of them (the caller then reads text()).
   */
  plainChoice(name: string, choices: readonly string[]): number {
    const p = this.find(name, 0);
    if (p < 0) return -1;
    const start = this.bounds[p + VALUE_START]!;
    const length = this.bounds[p + VALUE_END]! - start;
    const source = this.source;
    for (let c = 0; c < choices.length; c++) {
      const choice = choices[c]!;
      if (choice.length !== length) continue;
      let i = 0;
      while (i < length && source.charCodeAt(start + i) === choice.charCodeAt(i)) i++;
      // A choice is plain text: a value equal to it character for character has no escape to decode.
      if (i === length) return c;
    }
    return -1;
  }

  /**
   * The first value as a number when it is 1 to `maxDigits` (at most 15) decimal digits written as
   * themselves; otherwise -1 (absent, empty, escaped, anything else), and the caller reads text().
   * Up to 15 digits the sum below is exact, so it is the number Number() would give.
   */
  plainDigits(name: string, maxDigits: number): number {
    const p = this.find(name, 0);
    if (p < 0) return -1;
    const start = this.bounds[p + VALUE_START]!;
    const end = this.bounds[p + VALUE_END]!;
    if (end === start || end - start > maxDigits) return -1;
    const source = this.source;
    let n = 0;
    for (let i = start; i < end; i++) {
      const d = source.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return -1;
      n = n * 10 + d;
    }
    return n;
  }

  /** The position in `bounds` of the first parameter from `from` on named `name`, or -1. */
  private find(name: string, from: number): number {
    const { bounds, source, decodedNames, used } = this;
    const length = name.length;
    for (let p = from; p < used; p += STRIDE) {
      const decoded = decodedNames === null ? undefined : decodedNames[p / STRIDE];
      if (decoded !== undefined) {
        if (decoded === name) return p;
        continue;
      }
      const start = bounds[p + NAME_START]!;
      if (bounds[p + NAME_END]! - start !== length) continue;
      let i = 0;
      while (i < length && source.charCodeAt(start + i) === name.charCodeAt(i)) i++;
      if (i === length) return p;
    }
    return -1;
  }
}

/**
 * ASCII with nothing to decode (no "%", no "+"): text that stands for itself, the common case for
 * names and numeric values.
 */
function isPlain(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 37 /* % */ || c === 43 /* + */ || c >= 128) return false;
  }
  return true;
}

/** The raw query of a URL: everything between the first "?" and a "#", untouched. */
export function rawSearch(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return "";
  const hash = url.indexOf("#", q);
  return hash < 0 ? url.slice(q + 1) : url.slice(q + 1, hash);
}

/** rawSearch(url).length, without making the string. */
export function rawSearchLength(url: string): number {
  const q = url.indexOf("?");
  if (q < 0) return 0;
  const hash = url.indexOf("#", q);
  return (hash < 0 ? url.length : hash) - (q + 1);
}

/** The value of each ASCII hex digit, -1 for every other ASCII character: a lookup costs less than comparisons. */
const HEX_VALUES = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX_VALUES[48 + c] = c;
for (let c = 0; c < 6; c++) HEX_VALUES[65 + c] = HEX_VALUES[97 + c] = 10 + c;

function hexValue(code: number): number {
  return code < 128 ? HEX_VALUES[code]! : -1;
}

/** Percent-decoding (of `text`, or its characters from `start` to `end`) to bytes; "+" is a space (form encoding, which some clients use). */
export function percentDecode(text: string, what: string, start = 0, end = text.length): Uint8Array {
  const out = new Uint8Array(end - start);
  return out.subarray(0, percentDecodeInto(text, start, end, out, what));
}

/**
 * Percent-decodes the characters of `text` from `start` to `end` into `out` and returns the decoded
 * length. Bytes past `out`'s end are counted but not written, so a caller with a fixed-size buffer
 * still learns the real length.
 */
export function percentDecodeInto(text: string, start: number, end: number, out: Uint8Array, what: string): number {
  const room = out.length;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    let byte: number;
    if (c === 37 /* % */) {
      const hi = i + 1 < end ? hexValue(text.charCodeAt(i + 1)) : -1;
      const lo = i + 2 < end ? hexValue(text.charCodeAt(i + 2)) : -1;
      if ((hi | lo) < 0) {
        throw new TrackerError("bad-query-encoding", `bad percent-escape "${text.slice(i, Math.min(i + 3, end))}" in ${what}`);
      }
      byte = (hi << 4) | lo;
      i += 2;
    } else if (c === 43 /* + */) {
      byte = 32;
    } else if (c < 128) {
      byte = c;
    } else {
      // URL parsers percent-encode anything outside ASCII, so this is a malformed request line.
      throw new TrackerError("bad-query-encoding", `unencoded non-ASCII character in ${what}; percent-encode every byte`);
    }
    if (n < room) out[n] = byte;
    n++;
  }
  return n;
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}
