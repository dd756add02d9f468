// The qBittorrent Web API v2 under /api/v2, so the tools that drive qBittorrent (media managers, ratio
// and auto-removal tools, exporters, mobile apps) drive btpeer unchanged. It answers as qBittorrent
// 4.5.2 (Web API 2.8.19), the version its conformance suite runs against side by side
// (test/peer/qbt-conformance.test.ts). Auth as in qBittorrent: `auth/login` with the daemon's API token
// as the password (any username) sets the SID cookie; without it everything else is 403. Requests whose
// Origin names another host are refused (qBittorrent's CSRF check), so a web page elsewhere cannot use
// a logged-in browser's cookie.
import { Hono, type Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { bearerToken, tokenMatches } from "../api-token.ts";
import type { DaemonControl, DaemonStats } from "../control.ts";
import { torrentInfo } from "./fields.ts";
import { LabelError, type LabelStore } from "./labels.ts";
import { BadParam, NotFound, Params } from "./params.ts";
import { QbtSessions } from "./sessions.ts";
import { MainDataSync, type MainData } from "./sync.ts";
import { torrentRoutes } from "./torrent-routes.ts";
import { Conflict, trackerRoutes } from "./tracker-routes.ts";

export const QBT_VERSION = "v4.5.2";
export const QBT_WEBAPI_VERSION = "2.8.19";

export interface QbtApiOptions {
  control: DaemonControl;
  token: string;
  labels: LabelStore;
  defaultSavePath: string;
  /** The address of the client making the request (for the failed-login limit). */
  clientIp: (c: Context) => string;
}

export function qbtApi(options: QbtApiOptions): Hono {
  const { control, labels } = options;
  const sessions = new QbtSessions(options.token);
  const sync = new MainDataSync();
  const app = new Hono();

  app.onError((error, c) => {
    if (error instanceof NotFound) return c.text("Not Found", 404);
    if (error instanceof BadParam) return c.text(error.message, 400);
    if (error instanceof Conflict) return c.text(error.message, 409);
    if (error instanceof LabelError) return c.text(error.message, error.code === "conflict" ? 409 : 400);
    console.error(`qBittorrent API: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return c.text("Internal Server Error", 500);
  });
  app.notFound((c) => c.text("Not Found", 404));

  app.use("*", async (c, next) => {
    const origin = c.req.header("origin");
    if (origin && safeHost(origin) !== c.req.header("host")) return c.text("Unauthorized", 401);
    if (c.req.path.endsWith("/auth/login")) return next();
    const sid = getCookie(c, "SID");
    if (!sessions.valid(sid) && !tokenMatches(options.token, bearerToken(c.req.header("authorization")))) return c.text("Forbidden", 403);
    await next();
  });

  app.post("/auth/login", async (c) => {
    const p = await Params.of(c);
    const { result, sid } = sessions.login(p.text("password"), options.clientIp(c));
    if (result === "banned") return c.text("Your IP address has been banned after too many failed authentication attempts.", 403);
    if (result === "fails" || !sid) return c.text("Fails.");
    setCookie(c, "SID", sid, { httpOnly: true, sameSite: "Strict", path: "/" });
    return c.text("Ok.");
  });
  app.post("/auth/logout", (c) => {
    const sid = getCookie(c, "SID");
    sessions.logout(sid);
    if (sid) sync.forget(sid);
    return c.body(null, 200);
  });

  app.get("/app/version", (c) => c.text(QBT_VERSION));
  app.get("/app/webapiVersion", (c) => c.text(QBT_WEBAPI_VERSION));
  // qBittorrent names the libraries it is built on; btpeer uses none of them.
  app.get("/app/buildInfo", (c) => c.json({ bitness: 64, boost: "", libtorrent: "", openssl: "", qt: "", zlib: "" }));
  app.get("/app/defaultSavePath", (c) => c.text(options.defaultSavePath));
  app.get("/app/preferences", (c) => c.json(preferences(control, options.defaultSavePath)));
  app.post("/app/setPreferences", async (c) => {
    const p = await Params.of(c);
    let prefs: Record<string, unknown>;
    try {
      prefs = JSON.parse(p.required("json")) as Record<string, unknown>;
    } catch {
      throw new BadParam('parameter "json" is not JSON');
    }
    const limit = (v: unknown) => (typeof v === "number" && v > 0 ? v : null);
    control.setLimits({
      ...("up_limit" in prefs ? { uploadLimit: limit(prefs.up_limit) } : {}),
      ...("dl_limit" in prefs ? { downloadLimit: limit(prefs.dl_limit) } : {}),
      ...(typeof prefs.max_connec === "number" && prefs.max_connec > 0 ? { maxPeers: prefs.max_connec } : {}),
    });
    const flag = (v: unknown) => (typeof v === "boolean" ? v : undefined);
    const announce = { announceToAllTiers: flag(prefs.announce_to_all_tiers), announceToAllTrackers: flag(prefs.announce_to_all_trackers) };
    const changed = Object.fromEntries(Object.entries(announce).filter(([, v]) => v !== undefined));
    if (Object.keys(changed).length > 0) control.setSettings(changed);
    return c.body(null, 200);
  });

  app.get("/transfer/info", (c) => c.json(transferInfo(control.stats())));
  for (const [route, key] of [
    ["uploadLimit", "uploadLimit"],
    ["downloadLimit", "downloadLimit"],
  ] as const) {
    app.get(`/transfer/${route}`, (c) => c.text(String(control.stats().limits[key] ?? 0)));
  }
  for (const [route, key] of [
    ["setUploadLimit", "uploadLimit"],
    ["setDownloadLimit", "downloadLimit"],
  ] as const) {
    app.post(`/transfer/${route}`, async (c) => {
      const limit = (await Params.of(c)).number("limit");
      if (limit === undefined) throw new BadParam('missing parameter "limit"');
      control.setLimits({ [key]: limit > 0 ? limit : null });
      return c.body(null, 200);
    });
  }

  app.get("/sync/maindata", async (c) => {
    const rid = (await Params.of(c)).number("rid") ?? 0;
    // Per session, as qBittorrent keeps it; requests with the API token (no session) share one.
    return c.json(sync.answer(getCookie(c, "SID") ?? "", rid, mainData(control, labels)));
  });

  torrentRoutes(app, { control, labels, defaultSavePath: options.defaultSavePath });
  trackerRoutes(app, control);
  return app;
}

function mainData(control: DaemonControl, labels: LabelStore): MainData {
  const now = Date.now();
  const torrents: MainData["torrents"] = {};
  const trackers: MainData["trackers"] = {};
  const list = control.list();
  labels.prune(new Set(list.map((t) => t.infoHash)));
  for (const t of list) {
    torrents[t.infoHash] = torrentInfo(t, labels.of(t.infoHash), now, false);
    if (t.currentTracker) (trackers[t.currentTracker] ??= []).push(t.infoHash);
  }
  const categories: MainData["categories"] = {};
  for (const c of labels.categories()) categories[c.name] = { name: c.name, savePath: c.savePath };
  return { torrents, categories, tags: labels.tags(), server_state: serverState(control.stats()), trackers };
}

function transferInfo(s: DaemonStats) {
  return {
    connection_status: s.peers > 0 ? "connected" : "firewalled",
    dht_nodes: 0,
    dl_info_data: s.downloaded,
    dl_info_speed: s.downloadRate,
    dl_rate_limit: s.limits.downloadLimit ?? 0,
    up_info_data: s.uploaded,
    up_info_speed: s.uploadRate,
    up_rate_limit: s.limits.uploadLimit ?? 0,
  };
}

function serverState(s: DaemonStats) {
  return {
    ...transferInfo(s),
    alltime_dl: s.downloaded,
    alltime_ul: s.uploaded,
    average_time_queue: 0,
    free_space_on_disk: 0,
    global_ratio: s.downloaded > 0 ? (s.uploaded / s.downloaded).toFixed(2) : "-",
    queued_io_jobs: 0,
    queueing: false,
    read_cache_hits: "0",
    read_cache_overload: "0",
    refresh_interval: 1500,
    total_buffers_size: 0,
    total_peer_connections: s.peers,
    total_queued_size: 0,
    total_wasted_session: 0,
    use_alt_speed_limits: false,
    write_cache_overload: "0",
  };
}

/**
 * The preferences btpeer has, under qBittorrent's names; settable ones: up_limit, dl_limit, max_connec,
 * announce_to_all_tiers and announce_to_all_trackers (kept across restarts, as qBittorrent keeps them).
 */
function preferences(control: DaemonControl, savePath: string) {
  const s = control.stats();
  const settings = control.settings();
  return {
    announce_to_all_tiers: settings.announceToAllTiers,
    announce_to_all_trackers: settings.announceToAllTrackers,
    dht: false,
    dl_limit: s.limits.downloadLimit ?? 0,
    listen_port: s.port,
    lsd: false,
    max_connec: s.limits.maxPeers,
    pex: false,
    queueing_enabled: false,
    save_path: savePath,
    up_limit: s.limits.uploadLimit ?? 0,
    upnp: false,
  };
}

function safeHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
