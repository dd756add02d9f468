// The daemon as a whole: its figures, its global limits (changeable while it runs), its events.
//   GET   /api/v1/stats                 DaemonStats
//   GET   /api/v1/limits                GlobalLimits
//   PATCH /api/v1/limits                Partial<GlobalLimits> → GlobalLimits
//   GET   /api/v1/settings              DaemonSettings (kept across restarts)
//   PATCH /api/v1/settings              Partial<DaemonSettings> → DaemonSettings
//   GET   /api/v1/events?hash=          Server-Sent Events of DaemonEvent (sse.ts)
import type { Hono } from "hono";
import type { DaemonControl } from "../../control.ts";
import { readJsonObject } from "../body.ts";
import { globalLimitsOf, infoHashOf, settingsOf } from "../fields.ts";
import { resource } from "../resource.ts";
import type { EventStreams } from "../sse.ts";

export function daemonRoutes(app: Hono, control: DaemonControl, streams: EventStreams, holdOpen: (request: Request) => void): void {
  resource(app, "/api/v1/stats", { GET: (c) => c.json(control.stats()) });
  resource(app, "/api/v1/limits", {
    GET: (c) => c.json(control.stats().limits),
    PATCH: async (c) => c.json(control.setLimits(globalLimitsOf(await readJsonObject(c.req.raw)))),
  });
  resource(app, "/api/v1/settings", {
    GET: (c) => c.json(control.settings()),
    PATCH: async (c) => c.json(control.setSettings(settingsOf(await readJsonObject(c.req.raw)))),
  });
  resource(app, "/api/v1/events", {
    GET: (c) => {
      const hash = c.req.query("hash");
      const infoHash = hash === undefined ? null : infoHashOf(hash, "the hash parameter");
      if (infoHash !== null) control.get(infoHash); // an unknown torrent is a 404, as everywhere
      holdOpen(c.req.raw);
      return streams.respond(c.req.raw, infoHash);
    },
  });
}
