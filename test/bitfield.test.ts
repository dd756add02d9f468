import { describe, expect, test } from "bun:test";
import { Bitfield, bitfieldLength } from "../shared/bitfield.ts";
import { WireError } from "../shared/wire/errors.ts";

describe("Bitfield", () => {
  test("piece 0 is the high bit of the first byte, as BEP 3 says", () => {
    const b = new Bitfield(10);
    b.set(0);
    b.set(9);
    expect([...b.bytes]).toEqual([0x80, 0x40]);
    expect(b.has(0)).toBe(true);
    expect(b.has(1)).toBe(false);
    expect(b.has(9)).toBe(true);
  });

  test("counts set pieces and knows when it is complete", () => {
    const b = new Bitfield(3);
    expect(b.count()).toBe(0);
    b.set(1);
    b.set(1);
    expect(b.count()).toBe(1);
    b.set(0);
    b.set(2);
    expect(b.isComplete()).toBe(true);
    b.clear(2);
    b.clear(2);
    expect(b.count()).toBe(2);
    expect(b.isComplete()).toBe(false);
  });

  test("a torrent of zero pieces is complete with an empty bitfield", () => {
    const b = new Bitfield(0);
    expect(b.bytes.length).toBe(0);
    expect(b.isComplete()).toBe(true);
  });

  test("is sized ceil(pieces / 8) bytes", () => {
    expect(bitfieldLength(1)).toBe(1);
    expect(bitfieldLength(8)).toBe(1);
    expect(bitfieldLength(9)).toBe(2);
    expect(new Bitfield(17).bytes.length).toBe(3);
  });

  test("copies the bytes it is given and counts them", () => {
    const src = new Uint8Array([0xff, 0x80]);
    const b = new Bitfield(9, src);
    src[0] = 0;
    expect(b.count()).toBe(9);
    expect(b.isComplete()).toBe(true);
  });

  test("fromWire rejects a bitfield of the wrong size", () => {
    expect(() => Bitfield.fromWire(new Uint8Array(3), 9)).toThrow(WireError);
    expect(() => Bitfield.fromWire(new Uint8Array(1), 9)).toThrow(WireError);
    try {
      Bitfield.fromWire(new Uint8Array(3), 9);
    } catch (e) {
      expect((e as WireError).code).toBe("bad-bitfield");
    }
  });

  test("fromWire rejects spare bits set past the last piece", () => {
    expect(() => Bitfield.fromWire(new Uint8Array([0xff, 0xc0]), 9)).toThrow(/spare bits/);
    expect(Bitfield.fromWire(new Uint8Array([0xff, 0x80]), 9).count()).toBe(9);
  });

  test("has() is false outside the torrent and set() throws there", () => {
    const b = new Bitfield(4);
    expect(b.has(-1)).toBe(false);
    expect(b.has(4)).toBe(false);
    expect(() => b.set(4)).toThrow(RangeError);
    expect(() => b.clear(-1)).toThrow(RangeError);
  });
});
