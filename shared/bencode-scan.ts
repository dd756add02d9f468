// A validating scanner for bencode: walks the input once without building values, checks every rule
// the `bencode` package does not (it trusts its input), and reports the first problem with its byte
// offset. Nothing is allocated from a length prefix: a string's length is checked against what is
// left of the input before anything else happens. Recursion is bounded by `maxDepth`.

export type BencodeErrorCode =
  | "empty"
  | "truncated"
  | "unexpected-byte"
  | "bad-integer"
  | "integer-too-large"
  | "bad-string-length"
  | "string-past-end"
  | "bad-key"
  | "forbidden-key"
  | "unsorted-keys"
  | "duplicate-key"
  | "too-deep"
  | "trailing-bytes"
  | "not-encodable"
  | "key-order";

export class BencodeError extends Error {
  override readonly name = "BencodeError";
  constructor(
    readonly code: BencodeErrorCode,
    message: string,
    /** Byte offset in the input where the problem was found (-1 when encoding). */
    readonly offset: number,
  ) {
    super(offset >= 0 ? `${message} (at byte ${offset})` : message);
  }
}

export interface ScanOptions {
  /**
   * Dictionary keys must be in strictly ascending raw-byte order, as BEP 3 requires (default true:
   * right for our own protocol data). Pass false for torrents and replies from the wild: unsorted keys
   * are then accepted. A duplicate key is refused either way: parsers disagree on which copy counts
   * (libtorrent and Transmission keep the first, others the last), so such a file means two things.
   */
  strictKeyOrder?: boolean;
  /** Deepest nesting of lists and dictionaries accepted (default 64; torrents need about 5). */
  maxDepth?: number;
}

/** Where one entry of the outermost dictionary sits in the input. */
export interface DictEntrySpan {
  /** The raw key bytes (a view into the input). */
  key: Uint8Array;
  /** Offset of the value's first byte. */
  start: number;
  /** Offset just past the value's last byte. */
  end: number;
}

/** A dictionary key: where its length prefix starts (for errors) and its bytes. */
interface KeySpan {
  at: number;
  start: number;
  end: number;
}

const D = 0x64,
  L = 0x6c,
  I = 0x69,
  E = 0x65,
  COLON = 0x3a,
  MINUS = 0x2d,
  ZERO = 0x30,
  NINE = 0x39;
/** Digits in a safe integer (2^53 - 1 has 16); anything longer is rejected before it is summed. */
const MAX_DIGITS = 16;
/** Dictionary keys the JS object built from them must never carry (they would change its prototype). */
const PROTO_KEY = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f]; // "__proto__"

export class Scanner {
  private readonly strict: boolean;
  private readonly maxDepth: number;
  /** Filled for the outermost dictionary when `scan` is asked for entries. */
  entries: DictEntrySpan[] | null = null;
  /** Offset of the first content byte of the string `string()` checked last. */
  private lastStringStart = 0;

  constructor(
    private readonly bytes: Uint8Array,
    options: ScanOptions = {},
  ) {
    this.strict = options.strictKeyOrder ?? true;
    this.maxDepth = Math.min(options.maxDepth ?? 64, 1000);
  }

  /** Checks one value starting at `start`; returns the offset just past it. */
  scan(start: number, recordEntries = false): number {
    if (this.bytes.length === 0) throw new BencodeError("empty", "no bencoded data: the input is empty", 0);
    if (recordEntries) this.entries = [];
    return this.value(start, 0, recordEntries);
  }

  private fail(code: BencodeErrorCode, message: string, offset: number): never {
    throw new BencodeError(code, message, offset);
  }

  private byteAt(pos: number, what: string): number {
    const b = this.bytes[pos];
    if (b === undefined) this.fail("truncated", `data ends too early: expected ${what}`, pos);
    return b;
  }

  private value(pos: number, depth: number, recordEntries: boolean): number {
    const b = this.byteAt(pos, "a value");
    if (b === I) return this.integer(pos);
    if (b >= ZERO && b <= NINE) return this.string(pos);
    if (b === L || b === D) {
      if (depth >= this.maxDepth) this.fail("too-deep", `nesting deeper than ${this.maxDepth} levels`, pos);
      return b === L ? this.list(pos, depth) : this.dict(pos, depth, recordEntries);
    }
    return this.fail("unexpected-byte", `expected a value (i, l, d or a digit), found ${describe(b)}`, pos);
  }

  private integer(pos: number): number {
    let p = pos + 1;
    const negative = this.byteAt(p, "digits of an integer") === MINUS;
    if (negative) p++;
    const digitsStart = p;
    for (;;) {
      const c = this.byteAt(p, "'e' closing an integer");
      if (c === E) break;
      if (c < ZERO || c > NINE) this.fail("bad-integer", `integer has a non-digit ${describe(c)}`, p);
      p++;
    }
    const digits = p - digitsStart;
    if (digits === 0) this.fail("bad-integer", "integer has no digits", pos);
    if (this.bytes[digitsStart] === ZERO && (digits > 1 || negative)) {
      this.fail("bad-integer", negative ? "integer -0 is not allowed" : "integer has a leading zero", digitsStart);
    }
    if (digits > MAX_DIGITS || !Number.isSafeInteger(this.number(digitsStart, p))) {
      this.fail("integer-too-large", "integer is beyond ±(2^53 - 1)", pos);
    }
    return p + 1;
  }

  private number(from: number, to: number): number {
    let n = 0;
    for (let i = from; i < to; i++) n = n * 10 + (this.bytes[i]! - ZERO);
    return n;
  }

  private string(pos: number): number {
    let p = pos;
    for (;;) {
      const c = this.byteAt(p, "':' after a string length");
      if (c === COLON) break;
      if (c < ZERO || c > NINE) this.fail("bad-string-length", `string length has a non-digit ${describe(c)}`, p);
      if (p - pos >= MAX_DIGITS) this.fail("string-past-end", "string length is longer than any input", pos);
      p++;
    }
    if (p - pos > 1 && this.bytes[pos] === ZERO) this.fail("bad-string-length", "string length has a leading zero", pos);
    const length = this.number(pos, p);
    const start = p + 1;
    this.lastStringStart = start;
    if (length > this.bytes.length - start) {
      this.fail("string-past-end", `string of ${length} bytes runs past the end of the input (${this.bytes.length - start} left)`, pos);
    }
    return start + length;
  }

  private list(pos: number, depth: number): number {
    let p = pos + 1;
    while (this.byteAt(p, "'e' closing a list") !== E) p = this.value(p, depth + 1, false);
    return p + 1;
  }

  private dict(pos: number, depth: number, recordEntries: boolean): number {
    let p = pos + 1;
    let prevStart = -1;
    let prevEnd = -1;
    // Lenient mode: every key, so that a duplicate among unsorted keys is found once the dictionary ends.
    const keys: KeySpan[] | null = this.strict ? null : [];
    let sorted = true;
    while (this.byteAt(p, "'e' closing a dictionary") !== E) {
      const b = this.bytes[p]!;
      if (b < ZERO || b > NINE) this.fail("bad-key", `dictionary key must be a string, found ${describe(b)}`, p);
      const keyEnd = this.string(p);
      const keyStart = this.lastStringStart;
      if (this.equals(keyStart, keyEnd, PROTO_KEY)) this.fail("forbidden-key", 'dictionary key "__proto__" is not allowed', p);
      if (prevStart >= 0) {
        const order = compare(this.bytes, prevStart, prevEnd, keyStart, keyEnd);
        if (order === 0) this.duplicate(keyStart, keyEnd, p);
        if (order > 0 && this.strict) this.fail("unsorted-keys", `dictionary key ${quote(this.bytes, keyStart, keyEnd)} is out of order`, p);
        if (order > 0) sorted = false;
      }
      keys?.push({ at: p, start: keyStart, end: keyEnd });
      prevStart = keyStart;
      prevEnd = keyEnd;
      const valueEnd = this.value(keyEnd, depth + 1, false);
      if (recordEntries) this.entries!.push({ key: this.bytes.subarray(keyStart, keyEnd), start: keyEnd, end: valueEnd });
      p = valueEnd;
    }
    if (keys && !sorted) this.checkUnsortedKeys(keys);
    return p + 1;
  }

  /** Sorts a copy of the keys by bytes (O(n log n), whatever a hostile file holds) and refuses equal neighbours. */
  private checkUnsortedKeys(keys: KeySpan[]): void {
    const byBytes = [...keys].sort((a, b) => compare(this.bytes, a.start, a.end, b.start, b.end) || a.at - b.at);
    for (let i = 1; i < byBytes.length; i++) {
      const k = byBytes[i]!;
      const prev = byBytes[i - 1]!;
      if (compare(this.bytes, prev.start, prev.end, k.start, k.end) === 0) this.duplicate(k.start, k.end, k.at);
    }
  }

  private duplicate(keyStart: number, keyEnd: number, at: number): never {
    return this.fail("duplicate-key", `duplicate dictionary key ${quote(this.bytes, keyStart, keyEnd)}`, at);
  }

  private equals(start: number, end: number, ascii: readonly number[]): boolean {
    if (end - start !== ascii.length) return false;
    for (let i = 0; i < ascii.length; i++) if (this.bytes[start + i] !== ascii[i]) return false;
    return true;
  }
}

/** Orders two byte ranges of one buffer: negative, zero or positive. */
function compare(bytes: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) {
    const d = bytes[aStart + i]! - bytes[bStart + i]!;
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}

function describe(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, "0")}`;
}

function quote(bytes: Uint8Array, start: number, end: number): string {
  const text = new TextDecoder().decode(bytes.subarray(start, Math.min(end, start + 40)));
  return JSON.stringify(end - start > 40 ? `${text}…` : text);
}
