// A bounded UDP tracker load generator (BEP 15) for loopback benchmarks: a fixed number of sockets,
// each a client that connects once and then keeps a fixed number of announces in flight. It stops at
// a fixed count of announces or a time limit, whichever comes first. A request unanswered after a
// second counts as lost and is replaced, so a dropped datagram never stalls the run.
//
// Two engines send the same requests: "batched" (udp-load-batched.ts: sendmmsg/recvmmsg through
// bun:ffi, the default on Linux), fast enough that the tracker measured is the one that is busy; and
// "bun-socket" (Bun.udpSocket, a datagram per call), which runs anywhere but takes a core to keep a
// tracker busy part of the time. The batched engine can also be paced (`rate`): a tracker below
// saturation sleeps and wakes between requests, and that is what most trackers do most of the time.
import type { udp } from "bun";
import { runBatchedUdpLoad } from "./udp-load-batched.ts";
import { decodeResponse, encodeAnnounceRequest, encodeConnectRequest } from "../shared/udp-tracker/index.ts";

/**
 * An announce of a peer picked at random. A peer stays in one swarm and keeps its port and key from one
 * announce to the next, as a real client does; about one in five is a seeder.
 */
export function randomPeerAnnounce(connectionId: bigint, transactionId: number, swarms: Uint8Array[], peerIds: Uint8Array[], numWant: number): Uint8Array {
  const peer = Math.floor(Math.random() * peerIds.length);
  return encodeAnnounceRequest({
    connectionId,
    transactionId,
    infoHash: swarms[peer % swarms.length]!,
    peerId: peerIds[peer]!,
    downloaded: 0,
    left: Math.random() < 0.2 ? 0 : 1_000_000,
    uploaded: 0,
    event: "none",
    ip: 0,
    key: peer + 1,
    numWant,
    port: 1024 + (peer % 60000),
  });
}

export interface UdpLoadOptions {
  port: number;
  /** Announces to send in all (the bound on work). */
  announces: number;
  /** Time limit in seconds (the bound on time). */
  seconds: number;
  sockets: number;
  /** Announces in flight per socket. */
  window: number;
  /** Info hashes to announce to. */
  swarms: Uint8Array[];
  /** Distinct peers, each in one swarm, picked at random for each announce. */
  peers: number;
  numWant: number;
  /** Default "batched" on Linux, else "bun-socket". */
  engine?: UdpLoadEngine;
  /**
   * Announces per second at most (batched engine only): the tracker below saturation, as most run.
   * Absent, every socket keeps its window full.
   */
  rate?: number;
}

export type UdpLoadEngine = "batched" | "bun-socket";

export const defaultUdpLoadEngine = (): UdpLoadEngine => (process.platform === "linux" ? "batched" : "bun-socket");

export interface UdpLoadResult {
  answered: number;
  /** Announce replies whose action was not "announce" (errors): a run with any is not comparable. */
  refused: number;
  lost: number;
  /** Peers handed out in all (each reply's compact peers). */
  peersReturned: number;
  seconds: number;
}

const LOST_AFTER_MS = 1000;

/** The load's peer ids: "-UDP-", then the peer's number in the last four bytes. */
export function udpLoadPeerIds(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const id = new Uint8Array(20);
    new DataView(id.buffer).setUint32(16, i);
    id.set([0x2d, 0x55, 0x44, 0x50, 0x2d], 0); // "-UDP-"
    return id;
  });
}

export async function runUdpLoad(o: UdpLoadOptions): Promise<UdpLoadResult> {
  const peerIds = udpLoadPeerIds(o.peers);
  if ((o.engine ?? defaultUdpLoadEngine()) === "batched") return runBatchedUdpLoad(o, (i) => randomPeerAnnounce(0n, i, o.swarms, peerIds, o.numWant));
  if (o.rate !== undefined) throw new Error("a paced load (rate) needs the batched engine");
  const result: UdpLoadResult = { answered: 0, refused: 0, lost: 0, peersReturned: 0, seconds: 0 };
  let sent = 0;
  const started = performance.now();
  const deadline = started + o.seconds * 1000;
  const clients = await Promise.all(Array.from({ length: o.sockets }, (_, i) => openClient(i)));
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const c of clients) c.sweep(now);
  }, 200);
  try {
    await Promise.all(clients.map((c) => c.run()));
  } finally {
    clearInterval(sweeper);
    for (const c of clients) c.socket.close();
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;

  async function openClient(index: number) {
    const outstanding = new Map<number, number>(); // transaction id -> sent at
    let connectionId = 0n;
    let nextTx = (index + 1) << 20;
    let onConnected: (() => void) | null = null;
    let finished: (() => void) | null = null;
    const send = () => {
      if (sent >= o.announces || performance.now() > deadline) {
        if (outstanding.size === 0) finished?.();
        return;
      }
      sent++;
      const tx = nextTx++ >>> 0;
      // Swarms stay at peers / swarms each (see randomPeerAnnounce).
      const packet = randomPeerAnnounce(connectionId, tx, o.swarms, peerIds, o.numWant);
      outstanding.set(tx, performance.now());
      socket.send(packet, o.port, "127.0.0.1");
    };
    const socket: udp.Socket<"uint8array"> = await Bun.udpSocket({
      hostname: "127.0.0.1",
      binaryType: "uint8array",
      socket: {
        data(_s, data) {
          const reply = decodeResponse(data, 4);
          if (reply.action === "connect") {
            connectionId = reply.connectionId;
            onConnected?.();
            return;
          }
          if (!outstanding.delete(reply.transactionId)) return; // already counted lost
          if (reply.action === "announce") {
            result.answered++;
            result.peersReturned += reply.peers.length / 6;
          } else result.refused++;
          send();
        },
      },
    });
    return {
      socket,
      sweep(now: number) {
        for (const [tx, at] of outstanding) {
          if (now - at < LOST_AFTER_MS) continue;
          outstanding.delete(tx);
          result.lost++;
          send();
        }
      },
      async run() {
        for (let attempt = 0; connectionId === 0n; attempt++) {
          if (attempt === 10) throw new Error("the tracker never answered a connect request");
          socket.send(encodeConnectRequest(index), o.port, "127.0.0.1");
          await new Promise<void>((resolve) => {
            onConnected = resolve;
            setTimeout(resolve, 500);
          });
        }
        await new Promise<void>((resolve) => {
          finished = resolve;
          for (let i = 0; i < o.window; i++) send();
        });
      },
    };
  }
}
