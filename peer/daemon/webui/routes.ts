// GET / (the web UI), its scripts and its style sheet, each with the strict Content-Security-Policy the
// page is written for. They carry no data, so they need no token; everything they show comes from
// /api/v1 with the token the user signs in with.
import type { Hono } from "hono";
import { WEBUI_CSP, WEBUI_CSS, WEBUI_HTML } from "./page.ts";
import { ADD_JS } from "./scripts/add.ts";
import { API_JS } from "./scripts/api.ts";
import { DETAIL_JS } from "./scripts/detail.ts";
import { DOM_JS } from "./scripts/dom.ts";
import { EVENTS_JS } from "./scripts/events.ts";
import { LIST_JS } from "./scripts/list.ts";
import { MAIN_JS } from "./scripts/main.ts";
import { SETTINGS_JS } from "./scripts/settings.ts";
import { STATS_JS } from "./scripts/stats.ts";

const common = { "content-security-policy": WEBUI_CSP, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": "no-cache" };

/** The ES modules, by the path the page and their imports name them with. */
const SCRIPTS: Record<string, string> = {
  "/webui/main.js": MAIN_JS,
  "/webui/dom.js": DOM_JS,
  "/webui/api.js": API_JS,
  "/webui/events.js": EVENTS_JS,
  "/webui/stats.js": STATS_JS,
  "/webui/list.js": LIST_JS,
  "/webui/detail.js": DETAIL_JS,
  "/webui/add.js": ADD_JS,
  "/webui/settings.js": SETTINGS_JS,
};

export const WEB_UI_PATHS: ReadonlySet<string> = new Set(["/", "/webui.css", ...Object.keys(SCRIPTS)]);

export function webUiRoutes(app: Hono): void {
  app.get("/", (c) => c.body(WEBUI_HTML, 200, { ...common, "content-type": "text/html; charset=utf-8" }));
  app.get("/webui.css", (c) => c.body(WEBUI_CSS, 200, { ...common, "content-type": "text/css; charset=utf-8" }));
  for (const [path, script] of Object.entries(SCRIPTS)) {
    app.get(path, (c) => c.body(script, 200, { ...common, "content-type": "text/javascript; charset=utf-8" }));
  }
}
