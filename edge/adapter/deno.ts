// Deno entry: `deno serve --allow-net --allow-env edge/adapter/deno.ts`. Memory store unless the
// UPSTASH_REDIS_REST_URL/_TOKEN variables are set. UDP (BEP 15) through node:dgram, which needs no
// unstable flag (Deno.listenDatagram does: --unstable-net).
import dgram from "node:dgram";
import { getConnInfo } from "hono/deno";
import { setupTracker, setupUdpTracker } from "../server-setup.ts";

const setup = setupTracker(Deno.env.toObject(), { clientIp: (c) => getConnInfo(c).remote.address, withoutUpstash: "memory" });

export default {
  fetch: setup.app.fetch,
  // `deno serve` picks the address and port (--host, --port): UDP binds the same ones once known.
  onListen(addr) {
    if (addr.transport !== "tcp") return;
    const { hostname, port } = addr;
    const udp = setupUdpTracker(setup, port);
    if (!udp) return;
    const host = hostname.replace(/^\[|\]$/g, "");
    const socket = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
    socket.on("message", (packet, from) => udp.tracker.receive(packet, from.address, from.port, (reply) => socket.send(reply, from.port, from.address)));
    socket.bind(udp.port, host, () => console.log(`btswarm tracker UDP at udp://${hostname}:${socket.address().port}/announce`));
  },
} satisfies Deno.ServeDefaultExport;
