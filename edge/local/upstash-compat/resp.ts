// RESP2 codec (the Redis wire protocol), binary safe: bulk strings stay bytes. No I/O here.

/** An error reply from Redis ("-ERR ..."), kept as a value so a pipeline can carry it among results. */
export class RespError {
  constructor(readonly message: string) {}
}

/** A "+OK"-style status reply, kept apart from bulk strings (which are bytes). */
export class RespStatus {
  constructor(readonly text: string) {}
}

export type RespValue = Uint8Array | RespStatus | RespError | number | null | RespValue[];

export class RespProtocolError extends Error {
  override readonly name = "RespProtocolError";
  readonly code = "resp-protocol";
}

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");
const lineDecoder = new TextDecoder();

/** Encodes commands as RESP arrays of bulk strings, all into one buffer (one socket write). */
export function encodeCommands(commands: readonly (readonly (string | Uint8Array)[])[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let length = 0;
  const push = (part: Uint8Array) => {
    parts.push(part);
    length += part.length;
  };
  for (const args of commands) {
    push(encoder.encode(`*${args.length}\r\n`));
    for (const arg of args) {
      const bytes = typeof arg === "string" ? encoder.encode(arg) : arg;
      push(encoder.encode(`$${bytes.length}\r\n`));
      push(bytes);
      push(CRLF);
    }
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Thrown inside the parser when the buffer ends mid-value; never escapes RespDecoder. */
const INCOMPLETE = Symbol("incomplete");

/**
 * Incremental decoder: feed it whatever chunks the socket delivers, get back every complete reply.
 * Chunks are copied into one growing buffer (the socket's buffers are not ours to keep).
 */
export class RespDecoder {
  private buffer = new Uint8Array(4096);
  private start = 0;
  private end = 0;
  private pos = 0;

  push(chunk: Uint8Array): RespValue[] {
    this.append(chunk);
    const out: RespValue[] = [];
    while (this.start < this.end) {
      this.pos = this.start;
      let value: RespValue;
      try {
        value = this.parseValue();
      } catch (error) {
        if (error === INCOMPLETE) break;
        throw error;
      }
      out.push(value);
      this.start = this.pos;
    }
    if (this.start === this.end) this.start = this.end = 0;
    return out;
  }

  private append(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buffer.length) {
      const live = this.end - this.start;
      if (live + chunk.length > this.buffer.length) {
        const next = new Uint8Array((live + chunk.length) * 2);
        next.set(this.buffer.subarray(this.start, this.end));
        this.buffer = next;
      } else {
        this.buffer.copyWithin(0, this.start, this.end);
      }
      this.start = 0;
      this.end = live;
    }
    this.buffer.set(chunk, this.end);
    this.end += chunk.length;
  }

  private readLine(): string {
    for (let i = this.pos; i + 1 < this.end; i++) {
      if (this.buffer[i] === 13 && this.buffer[i + 1] === 10) {
        const line = lineDecoder.decode(this.buffer.subarray(this.pos, i));
        this.pos = i + 2;
        return line;
      }
    }
    throw INCOMPLETE;
  }

  private parseValue(): RespValue {
    if (this.pos >= this.end) throw INCOMPLETE;
    const type = this.buffer[this.pos++];
    const line = this.readLine();
    switch (type) {
      case 43: // +
        return new RespStatus(line);
      case 45: // -
        return new RespError(line);
      case 58: // :
        return Number(line);
      case 36: {
        // $
        const length = Number(line);
        if (length < 0) return null;
        if (this.pos + length + 2 > this.end) throw INCOMPLETE;
        const bytes = this.buffer.slice(this.pos, this.pos + length);
        this.pos += length + 2;
        return bytes;
      }
      case 42: {
        // *
        const count = Number(line);
        if (count < 0) return null;
        const items: RespValue[] = [];
        for (let i = 0; i < count; i++) items.push(this.parseValue());
        return items;
      }
      default:
        throw new RespProtocolError(`unexpected RESP type byte ${type} from Redis`);
    }
  }
}
