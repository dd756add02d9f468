// Query strings parsed into raw bytes. `info_hash` and `peer_id` are percent-encoded binary: a
// generic helper (URLSearchParams, c.req.query) decodes them as UTF-8 and replaces invalid
// sequences, corrupting them, so every value here stays bytes until a parameter reader decides.
import { TrackerError } from "./errors.ts";

export class RawQuery {
  /**
   * Values stay in their escaped form until read: a request reads each parameter at most once. The
   * first value of each name is kept apart from any repeats, so the usual query (every name once)
   * costs one Map entry per parameter and no array.
   */
  private constructor(
    private readonly first: Map<string, string>,
    private readonly repeats: Map<string, string[]> | null,
  ) {}

  /** Parses the part of a URL after "?" (a leading "?" and any "#fragment" are ignored). */
  static parse(search: string): RawQuery {
    const first = new Map<string, string>();
    let repeats: Map<string, string[]> | null = null;
    let text = search.startsWith("?") ? search.slice(1) : search;
    const hash = text.indexOf("#");
    if (hash >= 0) text = text.slice(0, hash);
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf("&", start);
      if (end < 0) end = text.length;
      if (end > start) {
        let eq = text.indexOf("=", start);
        if (eq > end) eq = -1;
        const rawName = text.slice(start, eq < 0 ? end : eq);
        const name = isPlain(rawName) ? rawName : latin1(percentDecode(rawName, "parameter name"));
        const value = eq < 0 ? "" : text.slice(eq + 1, end);
        if (!first.has(name)) first.set(name, value);
        else {
          repeats ??= new Map();
          const list = repeats.get(name);
          if (list) list.push(value);
          else repeats.set(name, [value]);
        }
      }
      start = end + 1;
    }
    return new RawQuery(first, repeats);
  }

  /** Parses the query of a full request URL without building a URL object (which would re-encode it). */
  static fromUrl(url: string): RawQuery {
    return RawQuery.parse(rawSearch(url));
  }

  has(name: string): boolean {
    return this.first.has(name);
  }

  /** Every value of a repeated parameter (e.g. `info_hash` in a scrape). */
  all(name: string): Uint8Array[] {
    const one = this.first.get(name);
    if (one === undefined) return [];
    const values = [one, ...(this.repeats?.get(name) ?? [])];
    return values.map((v) => percentDecode(v, name));
  }

  /** The first value still percent-encoded, or undefined when absent (for readers that decode as they go). */
  escaped(name: string): string | undefined {
    return this.first.get(name);
  }

  /** The first value, or undefined when absent. */
  bytes(name: string): Uint8Array | undefined {
    const raw = this.first.get(name);
    return raw === undefined ? undefined : percentDecode(raw, name);
  }

  /** The first value as text (bytes taken as Latin-1, so nothing is lost), or undefined. */
  text(name: string): string | undefined {
    const raw = this.first.get(name);
    if (raw === undefined) return undefined;
    return isPlain(raw) ? raw : latin1(percentDecode(raw, name));
  }
}

/** A "%", a "+" or anything outside ASCII: text that percentDecode must see. */
const NEEDS_DECODING = /[%+\u0080-\uffff]/;

/**
 * ASCII with nothing to decode: the common case for names and numeric values. A regular expression
 * (compiled to machine code once) costs less here than a loop over the characters.
 */
function isPlain(text: string): boolean {
  return !NEEDS_DECODING.test(text);
}

/** The raw query of a URL: everything between the first "?" and a "#", untouched. */
export function rawSearch(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return "";
  const hash = url.indexOf("#", q);
  return hash < 0 ? url.slice(q + 1) : url.slice(q + 1, hash);
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** Percent-decoding to bytes; "+" is a space (form encoding, which some clients use). */
export function percentDecode(text: string, what: string): Uint8Array {
  const out = new Uint8Array(text.length);
  return out.subarray(0, percentDecodeInto(text, out, what));
}

/**
 * Percent-decodes `text` into `out` and returns the decoded length. Bytes past `out`'s end are
 * counted but not written, so a caller with a fixed-size buffer still learns the real length.
 */
export function percentDecodeInto(text: string, out: Uint8Array, what: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let byte: number;
    if (c === 37 /* % */) {
      const hi = hexValue(text.charCodeAt(i + 1));
      const lo = hexValue(text.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) {
        throw new TrackerError("bad-query-encoding", `bad percent-escape "${text.slice(i, i + 3)}" in ${what}`);
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
    if (n < out.length) out[n] = byte;
    n++;
  }
  return n;
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}
