// `torrents/*` of the qBittorrent Web API v2 over DaemonControl. Batch operations (pause, delete, limits,
// ...) skip hashes that name no torrent, as qBittorrent does; single-torrent reads answer 404.
import type { Hono } from "hono";
import { DaemonError, type DaemonControl, type FilePriority, type TorrentSummary } from "../control.ts";
import { fromQbtPriority, pieceStates, qbtState, torrentFiles, torrentInfo, torrentProperties, torrentTrackers } from "./fields.ts";
import { cleanTag, type LabelStore } from "./labels.ts";
import { BadParam, NotFound, Params } from "./params.ts";
import { addTorrents } from "./add.ts";

export interface TorrentRouteOptions {
  control: DaemonControl;
  labels: LabelStore;
  defaultSavePath: string;
}

const FILTERS: Record<string, (state: string, t: TorrentSummary) => boolean> = {
  all: () => true,
  downloading: (s) => /DL$|^downloading$/.test(s),
  seeding: (s) => s === "uploading" || s === "stalledUP" || s === "checkingUP",
  completed: (s) => /UP$|^uploading$/.test(s),
  paused: (s) => s.startsWith("paused"),
  stopped: (s) => s.startsWith("paused"),
  resumed: (s) => !s.startsWith("paused"),
  running: (s) => !s.startsWith("paused"),
  active: (s, t) => t.downloadRate > 0 || t.uploadRate > 0 || s === "metaDL" || s.startsWith("checking"),
  inactive: (s, t) => !(t.downloadRate > 0 || t.uploadRate > 0 || s === "metaDL" || s.startsWith("checking")),
  stalled: (s) => s.startsWith("stalled"),
  stalled_uploading: (s) => s === "stalledUP",
  stalled_downloading: (s) => s === "stalledDL",
  errored: (s) => s === "error" || s === "missingFiles",
};

export function torrentRoutes(app: Hono, options: TorrentRouteOptions): void {
  const { control, labels } = options;
  const known = (hashes: "all" | string[]): string[] => {
    const present = control.list().map((t) => t.infoHash);
    return hashes === "all" ? present : hashes.filter((h) => present.includes(h));
  };
  const detail = (hash: string) => {
    try {
      return control.get(hash);
    } catch (error) {
      if (error instanceof DaemonError && error.code === "not-found") throw new NotFound();
      throw error;
    }
  };
  const each = async (p: Params, action: (hash: string) => Promise<unknown>) => {
    for (const hash of known(p.hashes())) {
      try {
        await action(hash);
      } catch (error) {
        // Removed meanwhile: nothing to do, as for a hash that was never there.
        if (!(error instanceof DaemonError && error.code === "not-found")) throw error;
      }
    }
  };

  app.get("/torrents/info", async (c) => {
    const p = await Params.of(c);
    const now = Date.now();
    const filter = FILTERS[p.text("filter") ?? "all"];
    if (!filter) throw new BadParam(`unknown filter "${p.text("filter")}"`);
    const wanted = p.text("hashes") ? new Set(known(p.hashes())) : null;
    const category = p.text("category");
    const tag = p.text("tag");
    const present = control.list();
    labels.prune(new Set(present.map((t) => t.infoHash)));
    let rows = present
      .filter((t) => !wanted || wanted.has(t.infoHash))
      .filter((t) => filter(qbtState(t), t))
      .map((t) => torrentInfo(t, labels.of(t.infoHash), now))
      .filter((row) => category === undefined || row.category === category)
      .filter((row) => tag === undefined || (tag === "" ? row.tags === "" : String(row.tags).split(", ").includes(tag)));
    const sort = p.text("sort");
    if (sort) rows.sort((a, b) => compare(a[sort], b[sort]));
    if (p.bool("reverse")) rows.reverse();
    let offset = p.number("offset") ?? 0;
    if (offset < 0) offset = Math.max(0, rows.length + offset);
    const limit = p.number("limit") ?? 0;
    rows = rows.slice(offset, limit > 0 ? offset + limit : undefined);
    return c.json(rows);
  });

  app.get("/torrents/properties", async (c) => c.json(torrentProperties(detail((await Params.of(c)).hash()), Date.now())));
  app.get("/torrents/files", async (c) => c.json(torrentFiles(detail((await Params.of(c)).hash()))));
  app.get("/torrents/trackers", async (c) => c.json(torrentTrackers(detail((await Params.of(c)).hash()))));
  app.get("/torrents/pieceStates", async (c) => c.json(pieceStates(detail((await Params.of(c)).hash()))));

  app.post("/torrents/add", async (c) => {
    const added = await addTorrents(await Params.of(c), options);
    return c.text(added > 0 ? "Ok." : "Fails.");
  });

  app.post("/torrents/delete", async (c) => {
    const p = await Params.of(c);
    const deleteFiles = p.bool("deleteFiles") ?? false;
    const hashes = known(p.hashes());
    for (const hash of hashes) await control.remove(hash, deleteFiles).catch(ignoreNotFound);
    labels.forget(hashes);
    return c.body(null, 200);
  });

  const lifecycle: Record<string, (hash: string) => Promise<void>> = {
    pause: (h) => control.pause(h),
    stop: (h) => control.pause(h),
    resume: (h) => control.resume(h),
    start: (h) => control.resume(h),
    recheck: (h) => control.recheck(h),
    reannounce: (h) => control.reannounce(h),
  };
  for (const [name, action] of Object.entries(lifecycle)) {
    app.post(`/torrents/${name}`, async (c) => {
      await each(await Params.of(c), action);
      return c.body(null, 200);
    });
  }

  app.post("/torrents/filePrio", async (c) => {
    const p = await Params.of(c);
    const hash = p.hash();
    const priority = fromQbtPriority(p.number("priority") ?? Number.NaN);
    if (priority === null) throw new BadParam(`invalid priority "${p.text("priority")}"`);
    const files = detail(hash).files.length;
    const ids = p
      .required("id")
      .split("|")
      .map((s) => Number(s));
    if (ids.some((id) => !Number.isInteger(id) || id < 0 || id >= files)) return c.text("At least one file id was not found", 409);
    const filePriorities: Record<number, FilePriority> = {};
    for (const id of ids) filePriorities[id] = priority;
    await control.patch(hash, { filePriorities });
    return c.body(null, 200);
  });

  app.post("/torrents/setShareLimits", async (c) => {
    const p = await Params.of(c);
    const ratio = p.number("ratioLimit");
    const minutes = p.number("seedingTimeLimit");
    if (ratio === undefined || minutes === undefined) throw new BadParam("ratioLimit and seedingTimeLimit are both required");
    // -2: the global limit (btpeer has none), -1: no limit.
    const goals = { ratioLimit: ratio < 0 ? null : ratio, seedTimeLimit: minutes < 0 ? null : minutes * 60 };
    await each(p, (h) => control.patch(h, { goals }));
    return c.body(null, 200);
  });

  for (const [route, key] of [
    ["setUploadLimit", "uploadLimit"],
    ["setDownloadLimit", "downloadLimit"],
  ] as const) {
    app.post(`/torrents/${route}`, async (c) => {
      const p = await Params.of(c);
      const limit = p.number("limit");
      if (limit === undefined) throw new BadParam('missing parameter "limit"');
      await each(p, (h) => control.patch(h, { limits: { [key]: limit > 0 ? limit : null } }));
      return c.body(null, 200);
    });
  }
  for (const [route, key] of [
    ["uploadLimit", "uploadLimit"],
    ["downloadLimit", "downloadLimit"],
  ] as const) {
    app.post(`/torrents/${route}`, async (c) => {
      const out: Record<string, number> = {};
      for (const hash of known((await Params.of(c)).hashes())) out[hash] = detail(hash).limits[key] ?? -1;
      return c.json(out);
    });
  }

  app.post("/torrents/setCategory", async (c) => {
    const p = await Params.of(c);
    labels.setCategory(known(p.hashes()), p.text("category") ?? "");
    return c.body(null, 200);
  });
  app.post("/torrents/createCategory", async (c) => {
    const p = await Params.of(c);
    labels.createCategory(p.required("category"), p.text("savePath") ?? "");
    return c.body(null, 200);
  });
  app.post("/torrents/editCategory", async (c) => {
    const p = await Params.of(c);
    labels.editCategory(p.required("category"), p.text("savePath") ?? "");
    return c.body(null, 200);
  });
  app.post("/torrents/removeCategories", async (c) => {
    const p = await Params.of(c);
    labels.removeCategories(p.required("categories").split("\n"));
    return c.body(null, 200);
  });
  app.get("/torrents/categories", (c) => {
    const out: Record<string, { name: string; savePath: string }> = {};
    for (const cat of labels.categories()) out[cat.name] = cat;
    return c.json(out);
  });

  const tagList = (p: Params) =>
    (p.text("tags") ?? "")
      .split(",")
      .map(cleanTag)
      .filter((t): t is string => t !== null);
  app.post("/torrents/addTags", async (c) => {
    const p = await Params.of(c);
    labels.addTags(known(p.hashes()), tagList(p));
    return c.body(null, 200);
  });
  app.post("/torrents/removeTags", async (c) => {
    const p = await Params.of(c);
    labels.removeTags(known(p.hashes()), tagList(p));
    return c.body(null, 200);
  });
  app.post("/torrents/createTags", async (c) => {
    labels.createTags(tagList(await Params.of(c)));
    return c.body(null, 200);
  });
  app.post("/torrents/deleteTags", async (c) => {
    labels.deleteTags(tagList(await Params.of(c)));
    return c.body(null, 200);
  });
  app.get("/torrents/tags", (c) => c.json(labels.tags()));
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof DaemonError && error.code === "not-found")) throw error;
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a ?? "").localeCompare(String(b ?? ""));
}
