// GET / (the web UI), its script and its style sheet, each with the strict Content-Security-Policy the
// page is written for. They carry no data, so they need no token; everything they show comes from
// /api/v1 with the token the user signs in with.
import type { Hono } from "hono";
import { WEBUI_CSP, WEBUI_CSS, WEBUI_HTML } from "./page.ts";
import { WEBUI_SCRIPT } from "./script.ts";

const common = { "content-security-policy": WEBUI_CSP, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": "no-cache" };

export const WEB_UI_PATHS: ReadonlySet<string> = new Set(["/", "/webui.js", "/webui.css"]);

export function webUiRoutes(app: Hono): void {
  app.get("/", (c) => c.body(WEBUI_HTML, 200, { ...common, "content-type": "text/html; charset=utf-8" }));
  app.get("/webui.js", (c) => c.body(WEBUI_SCRIPT, 200, { ...common, "content-type": "text/javascript; charset=utf-8" }));
  app.get("/webui.css", (c) => c.body(WEBUI_CSS, 200, { ...common, "content-type": "text/css; charset=utf-8" }));
}
