// GET / (the live dashboard), its script and style sheet, and GET /dashboard.json, the numbers it
// shows: totals and the busiest swarms from the same bounded scan as /stats, the store's counters
// (announces, scrapes, announces per minute over the last hour). One store round of calls per read.
import type { Context } from "hono";
import { DASHBOARD_CSP, DASHBOARD_CSS, DASHBOARD_HTML } from "../dashboard/page.ts";
import { DASHBOARD_SCRIPT } from "../dashboard/script.ts";
import { TrackerError } from "../errors.ts";
import { callStore, type TrackerContext } from "./common.ts";

/** Rows of the busiest-swarms table. */
export const BUSIEST_SHOWN = 10;

export function handleDashboardPage(c: Context): Response {
  c.header("Content-Security-Policy", DASHBOARD_CSP);
  c.header("X-Content-Type-Options", "nosniff");
  c.header("Cache-Control", "no-cache");
  return c.html(DASHBOARD_HTML);
}

export function handleDashboardAsset(c: Context, kind: "script" | "style"): Response {
  c.header("X-Content-Type-Options", "nosniff");
  c.header("Cache-Control", "no-cache");
  if (kind === "script") c.header("Content-Type", "text/javascript; charset=utf-8");
  else c.header("Content-Type", "text/css; charset=utf-8");
  return c.body(kind === "script" ? DASHBOARD_SCRIPT : DASHBOARD_CSS);
}

export async function handleDashboardData(c: Context, t: TrackerContext): Promise<Response> {
  c.header("Cache-Control", "no-store");
  const now = Date.now();
  try {
    const store = t.requireStore();
    const [stats, counters] = await callStore(t, "dashboard", () => Promise.all([store.stats(now, BUSIEST_SHOWN), store.counters(now)]));
    return c.json({
      now,
      swarms: stats.torrents,
      seeders: stats.seeders,
      leechers: stats.leechers,
      announces: stats.announces,
      scrapes: counters.scrapes,
      approximate: stats.approximate === true,
      perMinute: counters.perMinute,
      busiest: stats.busiest ?? [],
    });
  } catch (err) {
    // The page shows the problem; a failure reason in bencode would mean nothing to it.
    if (!(err instanceof TrackerError)) throw err;
    t.counters.failed(err.code);
    return c.json({ problem: err.message }, err.status as 503);
  }
}
