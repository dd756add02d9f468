// The bytes a handshake has received but not yet consumed. A handshake reads small fixed fields, so
// it joins what is left with each new chunk; what is left stays below the largest field it waits for.

export class Inbox {
  private bytes = new Uint8Array(0);

  get length(): number {
    return this.bytes.length;
  }

  append(chunk: Uint8Array): void {
    if (this.bytes.length === 0) {
      this.bytes = chunk.slice(); // ours to decrypt in place
      return;
    }
    const joined = new Uint8Array(this.bytes.length + chunk.length);
    joined.set(this.bytes);
    joined.set(chunk, this.bytes.length);
    this.bytes = joined;
  }

  /** The first `n` bytes, removed from the inbox (the view is ours to modify). */
  take(n: number): Uint8Array {
    const head = this.bytes.subarray(0, n);
    this.bytes = this.bytes.subarray(n);
    return head;
  }

  /** Where `pattern` starts, looking at starts 0..maxStart only; -1 when not (yet) there. */
  indexOf(pattern: Uint8Array, maxStart: number): number {
    const last = Math.min(maxStart, this.bytes.length - pattern.length);
    outer: for (let at = 0; at <= last; at++) {
      for (let k = 0; k < pattern.length; k++) if (this.bytes[at + k] !== pattern[k]) continue outer;
      return at;
    }
    return -1;
  }

  /** Everything left, removed from the inbox. */
  takeAll(): Uint8Array {
    return this.take(this.bytes.length);
  }
}
