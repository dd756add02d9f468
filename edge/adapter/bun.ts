// Bun entry (`npm start`): the tracker on 127.0.0.1:$PORT (default 8787), memory store unless
// UPSTASH_REDIS_REST_URL/_TOKEN are set. HOST changes the listening address. UDP (BEP 15) on the
// same port number unless TRACKER_UDP_PORT says otherwise (0: none); TRACKER_UDP_FFI=0 serves it
// through Bun.udpSocket instead of the batched socket (bun-udp.ts). HTTP is served from the listener on
// raw syscalls (ffi-http-server.ts) where it can be had (Linux x86-64, an address literal as HOST), else by
// Bun; TRACKER_HTTP_FFI=0 serves it by Bun always.
import { setupTracker, setupUdpTracker } from "../server-setup.ts";
import { BUN_CLIENT_ADDRESS, serveTracker } from "./bun-serve.ts";
import { serveUdp } from "./bun-udp.ts";

const setup = setupTracker(process.env, { ...BUN_CLIENT_ADDRESS, withoutUpstash: "memory" });
const { storeKind, log } = setup;
const hostname = process.env.HOST ?? "127.0.0.1";
const ffi = process.env.TRACKER_HTTP_FFI?.trim() !== "0";
const server = serveTracker(setup.app, { hostname, port: Number(process.env.PORT ?? 8787), log, storeKind, ffi });
const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
console.log(`btswarm tracker (${storeKind} store) at http://${shown}:${server.port}/announce${server.kind === "ffi" ? " (HTTP on raw syscalls)" : ""}`);

const udp = setupUdpTracker(setup, server.port!);
if (udp) {
  const batched = process.env.TRACKER_UDP_FFI?.trim() !== "0";
  const socket = await serveUdp(udp.tracker, { hostname, port: udp.port, log, batched });
  console.log(`btswarm tracker UDP at udp://${shown}:${socket.port}/announce (${socket.kind})`);
}
