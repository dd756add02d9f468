// The conformance suite against the app served in this process by Bun on the memory store, with one
// listener on 127.0.0.1 and one on [::1] sharing the same app, so IPv6 requests really come from ::1.
import { BUN_CLIENT_ADDRESS, serveTracker } from "../edge/adapter/bun-serve.ts";
import { setupTracker } from "../edge/server-setup.ts";
import { CONFORMANCE_ENV, runConformance } from "./tracker/conformance.ts";

// Both of Bun's HTTP servers: the listener on raw syscalls (`npm start`'s on Linux x86-64) and Bun.serve
// (everywhere else, and TRACKER_HTTP_FFI=0).
for (const ffi of [true, false]) {
  runConformance(`Bun in process, memory store, HTTP ${ffi ? "on raw syscalls" : "from Bun.serve"}`, async () => {
    const { app, storeKind, log } = setupTracker(CONFORMANCE_ENV, { ...BUN_CLIENT_ADDRESS, withoutUpstash: "memory" });
    if (storeKind !== "memory") throw new Error(`expected the memory store, got ${storeKind}`);
    // Served as `npm start` serves it.
    const v4 = serveTracker(app, { hostname: "127.0.0.1", port: 0, log, storeKind, ffi });
    const v6 = serveTracker(app, { hostname: "::1", port: 0, log, storeKind, ffi });
    const ffiHere = process.platform === "linux" && process.arch === "x64";
    if (ffi && ffiHere && (v4.kind !== "ffi" || v6.kind !== "ffi")) throw new Error(`expected HTTP on raw syscalls, got ${v4.kind} and ${v6.kind}`);
    return {
      baseUrl: `http://127.0.0.1:${v4.port}`,
      baseUrl6: `http://[::1]:${v6.port}`,
      async stop() {
        await Promise.all([v4.stop(), v6.stop()]);
      },
    };
  });
}
