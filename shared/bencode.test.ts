import { describe, expect, test } from "bun:test";
import { BencodeError, decode, decodeDict, decodePrefix, encode, type BencodeErrorCode } from "./bencode.ts";

const te = new TextEncoder();
const b = (text: string) => te.encode(text);

function errorOf(fn: () => unknown): BencodeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof BencodeError) return error;
    throw error;
  }
  throw new Error("expected a BencodeError, got none");
}

function expectError(input: string | Uint8Array, code: BencodeErrorCode, offset: number, options?: Parameters<typeof decode>[1]) {
  const error = errorOf(() => decode(typeof input === "string" ? b(input) : input, options));
  expect(error.code).toBe(code);
  expect(error.offset).toBe(offset);
  expect(error.message).toContain(`at byte ${offset}`);
}

describe("bencode decode of valid data", () => {
  test("decodes integers, strings, lists and dictionaries", () => {
    expect(decode(b("i42e"))).toBe(42);
    expect(decode(b("i-7e"))).toBe(-7);
    expect(decode(b("i0e"))).toBe(0);
    expect(decode(b("4:spam"))).toEqual(b("spam"));
    expect(decode(b("0:"))).toEqual(new Uint8Array(0));
    expect(decode(b("l4:spami1ee"))).toEqual([b("spam"), 1]);
    expect(decode(b("d3:bar4:spam3:fooi42ee"))).toEqual({ bar: b("spam"), foo: 42 });
  });

  test("keeps byte strings as bytes, including invalid UTF-8", () => {
    const input = new Uint8Array([0x33, 0x3a, 0xff, 0x00, 0xfe]);
    expect(decode(input)).toEqual(new Uint8Array([0xff, 0x00, 0xfe]));
  });

  test("decodes the largest safe integers", () => {
    expect(decode(b(`i${Number.MAX_SAFE_INTEGER}e`))).toBe(Number.MAX_SAFE_INTEGER);
    expect(decode(b(`i${Number.MIN_SAFE_INTEGER}e`))).toBe(Number.MIN_SAFE_INTEGER);
  });

  test("returns copies, not views into the input", () => {
    const input = b("3:abc");
    const value = decode(input) as Uint8Array;
    input[2] = 0x7a;
    expect(value).toEqual(b("abc"));
  });

  test("decodePrefix stops after one value and says where", () => {
    const input = b("d5:piecei0eeRAWDATA");
    const { value, end } = decodePrefix(input);
    expect(value).toEqual({ piece: 0 });
    expect(end).toBe(12);
  });

  test("decodeDict gives raw keys and exact value spans", () => {
    const input = b("d4:infod4:name1:xe3:zzzi1ee");
    const { value, entries } = decodeDict(input);
    expect(Object.keys(value)).toEqual(["info", "zzz"]);
    const info = entries.find((e) => new TextDecoder().decode(e.key) === "info")!;
    expect(new TextDecoder().decode(input.subarray(info.start, info.end))).toBe("d4:name1:xe");
  });

  test("decodeDict keeps raw keys that are not UTF-8", () => {
    const input = new Uint8Array([...b("d2:"), 0xff, 0xfe, ...b("i1ee")]);
    const { entries } = decodeDict(input);
    expect(entries[0]!.key).toEqual(new Uint8Array([0xff, 0xfe]));
  });
});

describe("bencode decode rejects malformed data with a code and offset", () => {
  test("rejects empty input", () => expectError("", "empty", 0));
  test("rejects truncated integers", () => expectError("i42", "truncated", 3));
  test("rejects a truncated list", () => expectError("l4:spam", "truncated", 7));
  test("rejects a truncated dictionary", () => expectError("d3:fooi1e", "truncated", 9));
  test("rejects a string length without colon", () => expectError("12", "truncated", 2));
  test("rejects an integer with a leading zero", () => expectError("i03e", "bad-integer", 1));
  test("rejects negative zero", () => expectError("i-0e", "bad-integer", 2));
  test("rejects an empty integer", () => expectError("ie", "bad-integer", 0));
  test("rejects a lone minus sign", () => expectError("i-e", "bad-integer", 0));
  test("rejects non-digits in an integer", () => expectError("i1x2e", "bad-integer", 2));
  test("rejects a plus sign in an integer", () => expectError("i+1e", "bad-integer", 1));
  test("rejects a decimal point in an integer", () => expectError("i1.5e", "bad-integer", 2));
  test("rejects integers beyond the safe range", () => expectError("i9007199254740993e", "integer-too-large", 0));
  test("rejects very long integers without summing them", () => expectError(`i${"9".repeat(5000)}e`, "integer-too-large", 0));
  test("rejects a string length with a leading zero", () => expectError("03:abc", "bad-string-length", 0));
  test("rejects a string length with a non-digit", () => expectError("3x:abc", "bad-string-length", 1));
  test("rejects a negative string length", () => expectError("l-3:abce", "unexpected-byte", 1));
  test("rejects a string running past the end", () => expectError("10:abc", "string-past-end", 0));

  test("rejects a huge string length before allocating anything", () => {
    expectError("999999999999999:x", "string-past-end", 0);
    expectError(`${"9".repeat(400)}:x`, "string-past-end", 0);
  });

  test("rejects an unknown type byte", () => expectError("x", "unexpected-byte", 0));
  test("rejects a non-string dictionary key", () => expectError("di1ei2ee", "bad-key", 1));
  test("rejects unsorted keys by default", () => expectError("d1:bi1e1:ai2ee", "unsorted-keys", 7));
  test("rejects duplicate keys by default", () => expectError("d1:ai1e1:ai2ee", "duplicate-key", 7));
  test("rejects a shorter key after a longer one it prefixes", () => expectError("d2:abi1e1:ai2ee", "unsorted-keys", 8));
  test("rejects a __proto__ key, which would change the object's prototype", () => expectError("d9:__proto__d6:lengthi5eee", "forbidden-key", 1));
  test("rejects trailing bytes", () => expectError("i1ei2e", "trailing-bytes", 3));
  test("rejects a missing dictionary value", () => expectError("d1:ae", "unexpected-byte", 4));

  test("rejects nesting deeper than the limit without blowing the stack", () => {
    const deep = "l".repeat(100_000) + "e".repeat(100_000);
    expectError(deep, "too-deep", 64);
    expectError("l".repeat(11) + "e".repeat(11), "too-deep", 10, { maxDepth: 10 });
    expect(decode(b("l".repeat(10) + "e".repeat(10)), { maxDepth: 10 })).toBeDefined();
  });

  test("rejects unclosed nesting of many levels", () => expectError("d1:al".repeat(20), "truncated", 100));
});

describe("bencode lenient key order, for torrents from the wild", () => {
  test("accepts unsorted keys", () => {
    expect(decode(b("d1:bi1e1:ai2ee"), { strictKeyOrder: false })).toEqual({ a: 2, b: 1 });
  });
  test("still rejects a duplicate key, next to its twin or anywhere among unsorted keys", () => {
    expectError("d1:ai1e1:ai2ee", "duplicate-key", 7, { strictKeyOrder: false });
    expectError("d1:ai1e1:ci2e1:bi3e1:ai4ee", "duplicate-key", 19, { strictKeyOrder: false });
    expectError("d1:xd1:bi1e1:ai2e1:bi3eee", "duplicate-key", 17, { strictKeyOrder: false });
    expect(decode(b("d1:ci1e1:ai2e1:bi3ee"), { strictKeyOrder: false })).toEqual({ a: 2, b: 3, c: 1 });
  });
  test("still rejects every other error", () => {
    expectError("d1:ai01ee", "bad-integer", 5, { strictKeyOrder: false });
  });
});

describe("bencode encode", () => {
  test("writes dictionaries with keys sorted by raw bytes whatever the insertion order", () => {
    const out = encode({ zeta: 1, alpha: "x", Beta: [1, 2], "": 0 });
    expect(new TextDecoder().decode(out)).toBe("d0:i0e4:Betali1ei2ee5:alpha1:x4:zetai1ee");
  });

  test("leaves out undefined dictionary values", () => {
    expect(new TextDecoder().decode(encode({ a: undefined, b: 1 }))).toBe("d1:bi1ee");
  });

  test("writes strings as UTF-8 and bytes as they are", () => {
    expect(encode("é")).toEqual(new Uint8Array([0x32, 0x3a, 0xc3, 0xa9]));
    const view = new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4);
    expect(encode(view)).toEqual(new Uint8Array([0x33, 0x3a, 1, 2, 3]));
  });

  test("writes safe bigints and negative numbers", () => {
    expect(new TextDecoder().decode(encode(12n))).toBe("i12e");
    expect(new TextDecoder().decode(encode(-5))).toBe("i-5e");
  });

  test("returns a plain Uint8Array", () => {
    expect(encode(1).constructor).toBe(Uint8Array);
  });

  test("round-trips through decode", () => {
    const value = { announce: b("http://t/"), info: { length: 5, name: b("a"), pieces: new Uint8Array(20) }, list: [[1], []] };
    expect(decode(encode(value))).toEqual(value);
  });

  test("rejects values the format cannot hold", () => {
    expect(errorOf(() => encode(1.5)).code).toBe("not-encodable");
    expect(errorOf(() => encode(Number.NaN)).code).toBe("not-encodable");
    expect(errorOf(() => encode(2n ** 60n)).code).toBe("integer-too-large");
    expect(errorOf(() => encode([undefined as unknown as number])).code).toBe("not-encodable");
    expect(errorOf(() => encode(true as unknown as number)).code).toBe("not-encodable");
    expect(errorOf(() => encode(new Date() as unknown as number)).code).toBe("not-encodable");
  });

  test("rejects cycles instead of overflowing the stack", () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(errorOf(() => encode(cyclic as never)).code).toBe("too-deep");
  });

  test("refuses keys whose UTF-16 and UTF-8 orders differ rather than write them out of order", () => {
    expect(errorOf(() => encode({ "\u{1F600}": 1, "\uFF21": 2 })).code).toBe("key-order");
    expect(new TextDecoder().decode(encode({ "\u00e9": 1, a: 2 }))).toBe("d1:ai2e2:\u00e9i1ee");
  });
});
