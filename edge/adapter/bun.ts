// Bun entry (`npm start`): the tracker on 127.0.0.1:$PORT (default 8787), memory store unless
// UPSTASH_REDIS_REST_URL/_TOKEN are set. HOST changes the listening address. UDP (BEP 15) on the
// same port number unless TRACKER_UDP_PORT says otherwise (0: none).
import { setupTracker, setupUdpTracker } from "../server-setup.ts";
import { ReplyBatch } from "../udp/reply-batch.ts";
import { clientAddress, serveTracker } from "./bun-serve.ts";

const setup = setupTracker(process.env, { clientIp: clientAddress, withoutUpstash: "memory" });
const { storeKind, log } = setup;
const hostname = process.env.HOST ?? "127.0.0.1";
const server = serveTracker(setup.app, { hostname, port: Number(process.env.PORT ?? 8787), log, storeKind });
const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
console.log(`btswarm tracker (${storeKind} store) at http://${shown}:${server.port}/announce`);

const udp = setupUdpTracker(setup, server.port!);
if (udp) {
  const batch = new ReplyBatch((items) => socket.sendMany(items), setImmediate);
  const socket = await Bun.udpSocket({
    hostname,
    port: udp.port,
    binaryType: "uint8array",
    socket: { data: (_s, packet, port, address) => udp.tracker.receive(packet, address, port, (reply) => batch.add(reply, port, address)) },
  });
  console.log(`btswarm tracker UDP at udp://${shown}:${socket.port}/announce`);
}
