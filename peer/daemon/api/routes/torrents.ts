// The torrents: add, list, one torrent's detail, its actions, changes and removal.
//   POST   /api/v1/torrents                      add (see add-request.ts) → 201 {"infoHash"}, Location
//   GET    /api/v1/torrents                      TorrentSummary[]
//   GET    /api/v1/torrents/:hash                TorrentDetail
//   PATCH  /api/v1/torrents/:hash                TorrentPatch → TorrentDetail
//   DELETE /api/v1/torrents/:hash?deleteData=    → 204
//   POST   /api/v1/torrents/:hash/<action>       pause, resume, recheck, reannounce → TorrentDetail
import type { Context, Hono } from "hono";
import type { DaemonControl } from "../../control.ts";
import { readAddRequest } from "../add-request.ts";
import { readJsonObject } from "../body.ts";
import { badRequest } from "../errors.ts";
import { infoHashOf } from "../fields.ts";
import { readPatch } from "../patch-request.ts";
import { resource } from "../resource.ts";

const ACTIONS = ["pause", "resume", "recheck", "reannounce"] as const;

export function torrentRoutes(app: Hono, control: DaemonControl): void {
  const hashOf = (c: Context) => infoHashOf(c.req.param("hash"), "the info hash in the path");

  resource(app, "/api/v1/torrents", {
    GET: (c) => c.json(control.list()),
    POST: async (c) => {
      const infoHash = await control.add(await readAddRequest(c.req.raw));
      c.header("Location", `/api/v1/torrents/${infoHash}`);
      return c.json({ infoHash }, 201);
    },
  });

  resource(app, "/api/v1/torrents/:hash", {
    GET: (c) => c.json(control.get(hashOf(c))),
    PATCH: async (c) => {
      const infoHash = hashOf(c);
      const torrent = control.get(infoHash); // 404 before the body is judged
      return c.json(await control.patch(infoHash, readPatch(await readJsonObject(c.req.raw), torrent)));
    },
    DELETE: async (c) => {
      const infoHash = hashOf(c);
      await control.remove(infoHash, deleteDataParam(c.req.query("deleteData")));
      return c.body(null, 204);
    },
  });

  for (const action of ACTIONS) {
    resource(app, `/api/v1/torrents/:hash/${action}`, {
      POST: async (c) => {
        const infoHash = hashOf(c);
        await control[action](infoHash);
        return c.json(control.get(infoHash));
      },
    });
  }
}

function deleteDataParam(text: string | undefined): boolean {
  if (text === undefined || text === "false" || text === "0") return false;
  if (text === "true" || text === "1") return true;
  throw badRequest("deleteData", `must be true or false, got "${text}"`);
}
