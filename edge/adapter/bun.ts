// Bun entry (`npm start`): the tracker on 127.0.0.1:$PORT (default 8787), memory store unless
// UPSTASH_REDIS_REST_URL/_TOKEN are set. HOST changes the listening address.
import { setupTracker } from "../server-setup.ts";
import { clientAddress, serveTracker } from "./bun-serve.ts";

const { app, storeKind, log } = setupTracker(process.env, { clientIp: clientAddress, withoutUpstash: "memory" });
const hostname = process.env.HOST ?? "127.0.0.1";
const server = serveTracker(app, { hostname, port: Number(process.env.PORT ?? 8787), log, storeKind });
const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
console.log(`btswarm tracker (${storeKind} store) at http://${shown}:${server.port}/announce`);
