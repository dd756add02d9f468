// MSE/PE on a real loopback connection: our initiator and receiver (MseSocket over Bun sockets, one
// process) move N MiB of 16 KiB piece messages with RC4 selected, and the same with plaintext selected
// (the handshake hidden, the payload not) as the reference. Both ends share one thread, so the RC4 row
// pays encryption and decryption on one core; bench:swarm will give the end-to-end cost between peers.
//
//   bun bench/mse-stream.ts [--mib N] [--rounds N] [--json]
import { MseInitiator, MseReceiver, SkeyTable, type MseMethod } from "../shared/mse/index.ts";
import { MseSocket } from "../peer/net/mse/mse-socket.ts";
import { WriteQueue } from "../peer/net/write-queue.ts";
import { formatTable, median, rowsAsJson, type Row } from "../peer/bench/table.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const mib = option("--mib", 256);
const rounds = option("--rounds", 3);
const INFO_HASH = new Uint8Array(20).fill(7);

type Holder = { mse: MseSocket | null };

/** Moves `mib` MiB from initiator to receiver with `method`; returns MB/s. */
async function transfer(method: MseMethod): Promise<number> {
  const total = mib * 1024 * 1024;
  let received = 0;
  let finished!: () => void;
  const arrived = new Promise<void>((r) => (finished = r));
  const socketEvents = {
    binaryType: "uint8array" as const,
    data: (s: { data: Holder }, chunk: Uint8Array) => s.data.mse?.receive(chunk),
    drain: (s: { data: Holder }) => s.data.mse?.drained(),
    close: (s: { data: Holder }) => s.data.mse?.closed("closed"),
  };
  const server = Bun.listen<Holder>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      ...socketEvents,
      open(socket: { data: Holder; write: unknown; end: unknown }) {
        socket.data = { mse: null };
        const receiver = new MseReceiver({ skeys: new SkeyTable([INFO_HASH]), accept: [method] });
        socket.data.mse = new MseSocket(socket as never, receiver, {
          ready: () => {},
          data: (chunk) => {
            received += chunk.length;
            if (received >= total) finished();
          },
          failed: (e) => console.error(e),
        });
        socket.data.mse.start();
      },
    } as never,
  });
  let queue!: WriteQueue;
  let start = 0;
  const ready = new Promise<void>((resolve) => {
    Bun.connect<Holder>({
      hostname: "127.0.0.1",
      port: server.port,
      data: { mse: null },
      socket: {
        ...socketEvents,
        open(socket: { data: Holder; write: unknown; end: unknown }) {
          const mse = new MseSocket(socket as never, new MseInitiator({ infoHash: INFO_HASH, provide: [method] }), {
            ready: () => resolve(),
            data: () => {},
            failed: (e) => console.error(e),
            drain: () => queue.flush(),
          });
          socket.data = { mse };
          queue = new WriteQueue(mse);
          mse.start();
        },
      } as never,
    });
  });
  await ready;
  const block = crypto.getRandomValues(new Uint8Array(16 * 1024 + 13));
  start = performance.now();
  // Keep about 4 MiB queued: enough to keep the socket busy, bounded memory.
  let sent = 0;
  const pump = () => {
    while (sent < total && queue.queuedBytes < 4 * 1024 * 1024) {
      const n = Math.min(block.length, total - sent);
      queue.send(block.subarray(0, n), () => {});
      sent += n;
    }
    if (sent < total) setTimeout(pump, 0);
  };
  pump();
  await arrived;
  const seconds = (performance.now() - start) / 1000;
  server.stop(true);
  return total / 1e6 / seconds;
}

const rates = { rc4: [] as number[], plaintext: [] as number[] };
for (let r = 0; r < rounds; r++) {
  rates.plaintext.push(await transfer("plaintext"));
  rates.rc4.push(await transfer("rc4"));
}
const rows: Row[] = [
  {
    figure: `MSE on loopback, one process: ${mib} MiB of piece messages, RC4 payload`,
    value: median(rates.rc4),
    unit: "MB/s",
    reference: { label: "same path, plaintext selected", value: median(rates.plaintext) },
  },
];
console.log(args.includes("--json") ? rowsAsJson(rows) : formatTable(rows));
