// The conformance suite against the app served in this process by Bun on the memory store, with one
// listener on 127.0.0.1 and one on [::1] sharing the same app, so IPv6 requests really come from ::1.
import { BUN_CLIENT_ADDRESS, serveTracker } from "../edge/adapter/bun-serve.ts";
import { setupTracker } from "../edge/server-setup.ts";
import { CONFORMANCE_ENV, runConformance } from "./tracker/conformance.ts";

runConformance("Bun in process, memory store", async () => {
  const { app, storeKind, log } = setupTracker(CONFORMANCE_ENV, { ...BUN_CLIENT_ADDRESS, withoutUpstash: "memory" });
  if (storeKind !== "memory") throw new Error(`expected the memory store, got ${storeKind}`);
  // Served as `npm start` serves it.
  const v4 = serveTracker(app, { hostname: "127.0.0.1", port: 0, log, storeKind });
  const v6 = serveTracker(app, { hostname: "::1", port: 0, log, storeKind });
  return {
    baseUrl: `http://127.0.0.1:${v4.port}`,
    baseUrl6: `http://[::1]:${v6.port}`,
    async stop() {
      await Promise.all([v4.stop(), v6.stop()]);
    },
  };
});
