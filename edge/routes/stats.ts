// GET /stats (JSON counts for dashboards) and GET /health (is this deployment able to serve?).
import type { Context } from "hono";
import { callStore, type TrackerContext } from "./common.ts";

export async function handleStats(c: Context, t: TrackerContext): Promise<Response> {
  const store = t.requireStore();
  const stats = await callStore(t, "stats", () => store.stats(Date.now()));
  c.header("Cache-Control", "no-store");
  return c.json(stats);
}

/** Cheap on purpose (no store call): load balancers and uptime checks hit it often. */
export function handleHealth(c: Context, problem: string | null): Response {
  c.header("Cache-Control", "no-store");
  if (problem !== null) return c.json({ ok: false, problem }, 503);
  return c.json({ ok: true });
}
