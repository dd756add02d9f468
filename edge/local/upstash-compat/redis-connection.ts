// One TCP connection to redis-server on Bun.connect, pipelined: a batch of commands goes out in one
// write and its replies come back in order. The bytes are parsed by RespDecoder, never here.
import type { Socket } from "bun";
import { encodeCommands, RespDecoder, RespError, type RespValue } from "./resp.ts";

export class RedisConnectionError extends Error {
  override readonly name = "RedisConnectionError";
  readonly code = "redis-connection";
}

interface Pending {
  count: number;
  replies: RespValue[];
  resolve: (replies: RespValue[]) => void;
  reject: (error: Error) => void;
}

export interface RedisAddress {
  host: string;
  port: number;
  password?: string;
  db?: number;
}

export class RedisConnection {
  private readonly pending: Pending[] = [];
  private readonly decoder = new RespDecoder();
  /** Bytes the kernel did not take yet (Bun's write may be partial); sent on drain. */
  private outbox: Uint8Array | null = null;
  private closedError: Error | null = null;

  private constructor(
    private socket: Socket<undefined> | null,
    private readonly onUnsolicited?: (value: RespValue) => void,
  ) {}

  /**
   * Connects, authenticates and selects the database; rejects when Redis is not there.
   * `onUnsolicited` receives replies nobody asked for (what MONITOR streams).
   */
  static async open(address: RedisAddress, onUnsolicited?: (value: RespValue) => void): Promise<RedisConnection> {
    const connection = new RedisConnection(null, onUnsolicited);
    try {
      connection.socket = await Bun.connect({
        hostname: address.host,
        port: address.port,
        socket: {
          data: (_socket, chunk) => connection.onData(chunk),
          drain: () => connection.flush(),
          close: () => connection.fail(new RedisConnectionError(`connection to Redis at ${address.host}:${address.port} closed`)),
          error: (_socket, error) => connection.fail(new RedisConnectionError(`Redis connection error: ${error.message}`)),
        },
      });
    } catch (error) {
      throw new RedisConnectionError(`cannot connect to Redis at ${address.host}:${address.port}: ${(error as Error).message}`);
    }
    const setup: string[][] = [];
    if (address.password) setup.push(["AUTH", address.password]);
    if (address.db) setup.push(["SELECT", String(address.db)]);
    if (setup.length > 0) {
      const replies = await connection.send(setup);
      const failed = replies.find((r) => r instanceof RespError);
      if (failed instanceof RespError) {
        connection.close();
        throw new RedisConnectionError(`Redis refused the connection setup: ${failed.message}`);
      }
    }
    return connection;
  }

  get isOpen(): boolean {
    return this.closedError === null;
  }

  /** Sends the commands in one write; resolves with one reply per command (errors as RespError values). */
  send(commands: readonly (readonly (string | Uint8Array)[])[]): Promise<RespValue[]> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (commands.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pending.push({ count: commands.length, replies: [], resolve, reject });
      this.write(encodeCommands(commands));
    });
  }

  close(): void {
    this.fail(new RedisConnectionError("connection to Redis closed by us"));
  }

  private write(bytes: Uint8Array): void {
    if (this.outbox) {
      const joined = new Uint8Array(this.outbox.length + bytes.length);
      joined.set(this.outbox);
      joined.set(bytes, this.outbox.length);
      this.outbox = joined;
      return;
    }
    const written = this.socket!.write(bytes);
    if (written < bytes.length) this.outbox = bytes.subarray(Math.max(written, 0));
  }

  private flush(): void {
    const rest = this.outbox;
    if (!rest || !this.socket) return;
    this.outbox = null;
    this.write(rest);
  }

  private onData(chunk: Uint8Array): void {
    let values: RespValue[];
    try {
      values = this.decoder.push(chunk);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    for (const value of values) {
      const head = this.pending[0];
      if (!head) {
        this.onUnsolicited?.(value);
        continue;
      }
      head.replies.push(value);
      if (head.replies.length === head.count) {
        this.pending.shift();
        head.resolve(head.replies);
      }
    }
  }

  private fail(error: Error): void {
    if (this.closedError) return;
    this.closedError = error;
    for (const p of this.pending.splice(0)) p.reject(error);
    this.outbox = null;
    this.socket?.end();
  }
}

/** Keeps one open connection, reconnecting on the next request after Redis went away. */
export class RedisLink {
  private current: Promise<RedisConnection> | null = null;

  constructor(private readonly address: RedisAddress) {}

  async send(commands: readonly (readonly (string | Uint8Array)[])[]): Promise<RespValue[]> {
    let connection: RedisConnection;
    try {
      if (this.current) {
        connection = await this.current;
        if (!connection.isOpen) this.current = null;
      }
      this.current ??= RedisConnection.open(this.address);
      connection = await this.current;
    } catch (error) {
      this.current = null;
      throw error;
    }
    return connection.send(commands);
  }

  close(): void {
    const current = this.current;
    this.current = null;
    void current?.then((c) => c.close()).catch(() => {});
  }
}
