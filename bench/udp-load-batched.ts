// bench/udp-load.ts's load sent through sockets of our own (bun:ffi, Linux): each socket's requests go
// out with one sendmmsg and its replies come in with one recvmmsg, from one loop that blocks in poll()
// on all the sockets. The load generator must outpace the tracker it measures: on Bun's own socket
// (a JS callback, a fresh Buffer and a sendto per datagram) it used a whole core and the tracker
// idled between its small bursts, so a tracker was measured partly on how it sleeps and wakes. Here
// the generator costs a fraction of the tracker's time, and the tracker's queue stays full.
//
// The same requests as the Bun engine (randomPeerAnnounce: a random peer of a fixed pool, in its own
// swarm), drawn from a sequence made before the run and patched with the connection and transaction
// ids as they go out. Bounded as the other engine is: a count of announces, a time limit, a request
// unanswered after a second counted lost and replaced.
//
// Paced (o.rate): the requests go out in 1 ms ticks, rate / 1000 per tick (each socket still bounded by
// its window), the sockets taking turns to go first; a tick missed (the generator descheduled) is
// made up for, but at most MAX_TICKS_OWED of them at once, so a stall does not end in a flood.
import { ptr } from "bun:ffi";
import { FfiUdpSocket, linkTable, linuxLibc, pollfdFor } from "../edge/adapter/bun-udp-ffi.ts";
import { MessageTable } from "../edge/adapter/linux-mmsg.ts";
import { encodeConnectRequest } from "../shared/udp-tracker/index.ts";
import type { UdpLoadOptions, UdpLoadResult } from "./udp-load.ts";

/** Requests made before the run and sent in turn (the peer of each is random; 64 Ki of them repeat rarely enough). */
const SEQUENCE = 1 << 16;
const SLOT_BYTES = 2048;
const LOST_AFTER_MS = 1000;
const POLL_MS = 10;
const TICK_MS = 1;
const MAX_TICKS_OWED = 10;
const ACTION_CONNECT = 0;
const ACTION_ANNOUNCE = 1;
const LOOPBACK = new Uint8Array([127, 0, 0, 1]);

interface Client {
  socket: FfiUdpSocket;
  tx: MessageTable;
  txBase: number;
  rx: MessageTable;
  rxBase: number;
  /** The connection id's 8 bytes as the tracker gave them (null until connected). */
  connectionId: Uint8Array | null;
  /** Transaction id → when its request went out. */
  outstanding: Map<number, number>;
  nextTx: number;
}

/**
 * Runs the load synchronously (the bench's event loop waits meanwhile: nothing else runs in it during
 * a measurement). `packets(i)` gives the i-th request of the sequence, with any connection id.
 */
export function runBatchedUdpLoad(o: UdpLoadOptions, packet: (i: number) => Uint8Array): UdpLoadResult {
  const c = linuxLibc();
  const result: UdpLoadResult = { answered: 0, refused: 0, lost: 0, peersReturned: 0, seconds: 0 };
  const sequence = Array.from({ length: SEQUENCE }, (_, i) => packet(i));
  const to = { family: 4 as const, ip4: 0x7f000001, port: o.port };
  const slots = Math.max(o.window, 16);
  const clients: Client[] = [];
  const pollfds = new Uint8Array(8 * o.sockets);
  const pollView = new DataView(pollfds.buffer);
  try {
    for (let i = 0; i < o.sockets; i++) {
      const socket = new FfiUdpSocket(LOOPBACK, 0);
      const tx = new MessageTable(slots, SLOT_BYTES);
      const rx = new MessageTable(slots, SLOT_BYTES);
      clients.push({ socket, tx, txBase: linkTable(tx), rx, rxBase: linkTable(rx), connectionId: null, outstanding: new Map(), nextTx: (i + 1) << 20 });
      pollfds.set(pollfdFor(socket.fd), 8 * i);
    }
    connectAll(clients, o.port);
    // Every slot sends a request of the same length to the same tracker: set once, then only the bytes change.
    for (const client of clients) for (let s = 0; s < slots; s++) client.tx.setOutgoing(s, sequence[0]!, to);

    let sent = 0;
    let next = 0;
    const started = performance.now();
    const deadline = started + o.seconds * 1000;
    let sweptAt = started;
    const paced = o.rate !== undefined;
    const perTick = ((o.rate ?? 0) * TICK_MS) / 1000;
    let ticks = 0;
    /** Requests the pace allows now (whole ones are sent, the fraction carries to the next tick). */
    let credit = 0;
    let first = 0;
    for (;;) {
      const now = performance.now();
      const sending = sent < o.announces && now <= deadline;
      if (paced) {
        const tick = Math.floor((now - started) / TICK_MS);
        credit = Math.min(credit + (tick + 1 - ticks) * perTick, Math.max(perTick, 1) * MAX_TICKS_OWED);
        ticks = tick + 1;
      }
      let waiting = 0;
      for (let j = 0; j < clients.length; j++) {
        const client = clients[(first + j) % clients.length]!;
        let k = 0;
        while (sending && sent < o.announces && client.outstanding.size < o.window && (!paced || credit >= 1)) {
          const slot = k * SLOT_BYTES;
          const bytes = client.tx.bytes;
          bytes.set(sequence[next]!, slot);
          bytes.set(client.connectionId!, slot);
          const tx = client.nextTx++ >>> 0;
          bytes[slot + 12] = tx >>> 24;
          bytes[slot + 13] = (tx >>> 16) & 0xff;
          bytes[slot + 14] = (tx >>> 8) & 0xff;
          bytes[slot + 15] = tx & 0xff;
          client.outstanding.set(tx, now);
          next = (next + 1) % SEQUENCE;
          sent++;
          k++;
          if (paced) credit--;
        }
        if (k > 0) client.socket.send(client.tx, client.txBase, k);
        waiting += client.outstanding.size;
      }
      first = (first + 1) % clients.length;
      if (waiting === 0 && !(paced && sending)) break;
      if (now - sweptAt >= 200) {
        sweptAt = now;
        for (const client of clients) {
          for (const [tx, at] of client.outstanding) {
            if (now - at < LOST_AFTER_MS) continue;
            client.outstanding.delete(tx);
            result.lost++;
          }
        }
      }
      // Paced, the generator wakes for the next tick even when no reply comes.
      const timeout = paced && sending ? Math.max(0, Math.ceil(started + ticks * TICK_MS - performance.now())) : POLL_MS;
      if (c.poll(ptr(pollfds), o.sockets, timeout) <= 0) continue;
      for (let i = 0; i < o.sockets; i++) {
        if ((pollView.getInt16(8 * i + 6, true) & 1) === 0) continue;
        const client = clients[i]!;
        const n = client.socket.receive(client.rx, client.rxBase);
        for (let m = 0; m < n; m++) {
          const reply = client.rx.data(m);
          const v = new DataView(reply.buffer, reply.byteOffset, reply.length);
          if (reply.length < 8 || !client.outstanding.delete(v.getUint32(4))) continue; // late: already counted lost
          if (v.getUint32(0) === ACTION_ANNOUNCE && reply.length >= 20) {
            result.answered++;
            result.peersReturned += (reply.length - 20) / 6;
          } else result.refused++;
        }
      }
    }
    result.seconds = (performance.now() - started) / 1000;
    return result;
  } finally {
    for (const client of clients) client.socket.close();
  }
}

/** Each socket gets its connection id (a few tries each, as a client would). */
function connectAll(clients: Client[], port: number): void {
  const c = linuxLibc();
  const to = { family: 4 as const, ip4: 0x7f000001, port };
  for (let attempt = 0; attempt < 10 && clients.some((client) => client.connectionId === null); attempt++) {
    for (const [i, client] of clients.entries()) {
      if (client.connectionId !== null) continue;
      client.tx.setOutgoing(0, encodeConnectRequest(i), to);
      client.socket.send(client.tx, client.txBase, 1);
    }
    const until = performance.now() + 500;
    for (const client of clients) {
      const one = pollfdFor(client.socket.fd);
      while (client.connectionId === null && performance.now() < until) {
        if (c.poll(ptr(one), 1, 50) <= 0) continue;
        const n = client.socket.receive(client.rx, client.rxBase);
        for (let m = 0; m < n; m++) {
          const reply = client.rx.data(m);
          if (reply.length >= 16 && new DataView(reply.buffer, reply.byteOffset).getUint32(0) === ACTION_CONNECT) client.connectionId = reply.slice(8, 16);
        }
      }
    }
  }
  if (clients.some((client) => client.connectionId === null)) throw new Error("the tracker never answered a connect request");
}
