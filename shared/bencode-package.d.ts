// The `bencode` package ships no types; this is the part of its API we use.
declare module "bencode" {
  interface Bencode {
    encode(value: unknown): Uint8Array;
    decode(data: Uint8Array, start?: number, end?: number): unknown;
    byteLength(value: unknown): number;
  }
  const bencode: Bencode;
  export default bencode;
}
