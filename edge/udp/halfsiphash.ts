// HalfSipHash-2-4 with a 32-bit output (Aumasson and Bernstein's SipHash on 32-bit words): a keyed
// hash fast on short inputs, here to sign UDP connection ids. Checked against the reference vectors.

function rotl(x: number, b: number): number {
  return (x << b) | (x >>> (32 - b));
}

/**
 * `key` is 8 bytes; the result is the 4 output bytes read as a little-endian unsigned number. The
 * rounds are written out: a closure over the state made the four words heap variables, at several
 * times the cost (this runs for every UDP request).
 */
export function halfSipHash24(key: Uint8Array, message: Uint8Array, length = message.length): number {
  const k0 = key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24);
  const k1 = key[4]! | (key[5]! << 8) | (key[6]! << 16) | (key[7]! << 24);
  let v0 = k0;
  let v1 = k1;
  let v2 = 0x6c796765 ^ k0;
  let v3 = 0x74656462 ^ k1;
  const whole = length - (length % 4);
  // Message words, then the last (length in the top byte), then 4 finishing rounds (v2 ^= 0xff first).
  for (let i = 0; i <= whole; i += 4) {
    let m: number;
    if (i < whole) m = message[i]! | (message[i + 1]! << 8) | (message[i + 2]! << 16) | (message[i + 3]! << 24);
    else {
      m = (length & 0xff) << 24;
      for (let j = length - 1; j >= whole; j--) m |= message[j]! << (8 * (j - whole));
    }
    v3 ^= m;
    for (let r = 0; r < 2; r++) {
      v0 = (v0 + v1) | 0;
      v1 = rotl(v1, 5) ^ v0;
      v0 = rotl(v0, 16);
      v2 = (v2 + v3) | 0;
      v3 = rotl(v3, 8) ^ v2;
      v0 = (v0 + v3) | 0;
      v3 = rotl(v3, 7) ^ v0;
      v2 = (v2 + v1) | 0;
      v1 = rotl(v1, 13) ^ v2;
      v2 = rotl(v2, 16);
    }
    v0 ^= m;
  }
  v2 ^= 0xff;
  for (let r = 0; r < 4; r++) {
    v0 = (v0 + v1) | 0;
    v1 = rotl(v1, 5) ^ v0;
    v0 = rotl(v0, 16);
    v2 = (v2 + v3) | 0;
    v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) | 0;
    v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) | 0;
    v1 = rotl(v1, 13) ^ v2;
    v2 = rotl(v2, 16);
  }
  return (v1 ^ v3) >>> 0;
}
