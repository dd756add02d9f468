// MseSocket over real loopback TCP, our initiator against our receiver: bulk payload through partial
// writes arrives intact (the keystream rewinds to what the kernel took), a stalled handshake ends at its
// deadline with "timeout", a peer leaving mid-handshake with "closed", and a plaintext BitTorrent
// handshake on the same port is told apart by its first bytes.
import { describe, expect, test } from "bun:test";
import { MseError, MseInitiator, MseReceiver, SkeyTable } from "../../shared/mse/index.ts";
import { encodeHandshake } from "../../shared/wire/handshake.ts";
import { WriteQueue } from "../../peer/net/write-queue.ts";
import { dialMse, listenMse, type MseOutcome } from "./mse-pipe.ts";
import { until as untilEvery } from "../support/until.ts";

const until = (what: () => boolean, label: string) => untilEvery(what, label, { tries: 400, everyMs: 25 });

const INFO_HASH = new Uint8Array(20).fill(0xab);
const patternByte = (k: number) => (k * 31 + (k >>> 10)) & 0xff;

function server(limits = {}) {
  const outcomes: Promise<MseOutcome>[] = [];
  const plaintext: Uint8Array[] = [];
  const listener = listenMse(
    () => new MseReceiver({ skeys: new SkeyTable([INFO_HASH]), accept: ["rc4", "plaintext"] }),
    (o) => {
      o.catch(() => {});
      outcomes.push(o);
    },
    (first) => plaintext.push(first),
    limits,
  );
  return { listener, outcomes, plaintext };
}

describe("MseSocket over loopback", () => {
  test("32 MiB of RC4 payload, written through a WriteQueue that the kernel pushes back on, arrives intact", async () => {
    const { listener, outcomes } = server();
    try {
      // An odd scratch size: 1 MiB writes go out in uneven slices, any of which the kernel may cut.
      const client = await dialMse(listener.port, new MseInitiator({ infoHash: INFO_HASH, provide: ["rc4"] }), { scratchBytes: 100_003 });
      await until(() => outcomes.length === 1, "the server's handshake");
      const served = await outcomes[0]!;
      expect(served.result.selected).toBe("rc4");

      const total = 32 * 1024 * 1024;
      let received = 0;
      let wrong = -1;
      const arrived = new Promise<void>((resolve) =>
        served.attach((chunk) => {
          for (let i = 0; i < chunk.length; i++) if (chunk[i] !== patternByte(received + i) && wrong < 0) wrong = received + i;
          received += chunk.length;
          if (received >= total) resolve();
        }),
      );
      const queue = new WriteQueue(client.mse);
      let pushedBack = false;
      client.attach(
        () => {},
        () => queue.flush(),
      );
      for (let at = 0; at < total; at += 1 << 20) {
        const block = new Uint8Array(1 << 20);
        for (let i = 0; i < block.length; i++) block[i] = patternByte(at + i);
        queue.send(block, () => {});
        if (queue.queuedBytes > 0) pushedBack = true;
      }
      await arrived;
      expect(wrong).toBe(-1);
      expect(received).toBe(total);
      expect(pushedBack).toBe(true); // partial writes did happen, and the stream survived them
      client.mse.end();
    } finally {
      listener.stop(true);
    }
  }, 60_000);

  test("a peer that stalls mid-handshake is dropped at the deadline with 'timeout', and its socket closed", async () => {
    const { listener, outcomes } = server({ handshakeDeadlineMs: 300 });
    let peerSawClose = false;
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port: listener.port,
      socket: { data() {}, close: () => void (peerSawClose = true) },
    });
    socket.write(new Uint8Array(120).fill(0x42)); // a DH value and a little padding, then silence
    try {
      await until(() => outcomes.length === 1, "the handshake to start");
      const error = await outcomes[0]!.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MseError);
      expect((error as MseError).code).toBe("timeout");
      await until(() => peerSawClose, "the socket to close");
    } finally {
      socket.end();
      listener.stop(true);
    }
  }, 30_000);

  test("a peer leaving mid-handshake ends it with 'closed'", async () => {
    const { listener, outcomes } = server();
    const socket = await Bun.connect({ hostname: "127.0.0.1", port: listener.port, socket: { data() {} } });
    socket.write(new Uint8Array(50).fill(0x42));
    try {
      await until(() => outcomes.length === 1, "the handshake to start");
      socket.end();
      const error = await outcomes[0]!.then(
        () => null,
        (e: unknown) => e,
      );
      expect((error as MseError).code).toBe("closed");
    } finally {
      listener.stop(true);
    }
  }, 30_000);

  test("a plaintext BitTorrent handshake on the same port is told apart by its first bytes, even split", async () => {
    const { listener, outcomes, plaintext } = server();
    const handshake = encodeHandshake({ reserved: new Uint8Array(8), infoHash: INFO_HASH, peerId: new Uint8Array(20).fill(1) });
    const socket = await Bun.connect({ hostname: "127.0.0.1", port: listener.port, socket: { data() {} } });
    try {
      socket.write(handshake.subarray(0, 7));
      await Bun.sleep(50);
      socket.write(handshake.subarray(7));
      await until(() => plaintext.length === 1, "the plaintext classification");
      expect(plaintext[0]!.subarray(0, 20)).toEqual(handshake.subarray(0, 20));
      expect(outcomes.length).toBe(0);
    } finally {
      socket.end();
      listener.stop(true);
    }
  }, 30_000);
});
