// A torrent's trackers (a magnet link's too, while it fetches its metadata): add, change one, remove.
// Each answers with the torrent as it is after (its `trackers`), applied at once and kept across restarts.
//   POST   /api/v1/torrents/:hash/trackers          {"urls": ["udp://...", ...]}  added after its own, a tier each
//   PATCH  /api/v1/torrents/:hash/trackers          {"url": "<one of its trackers>", "newUrl": "..."}
//   DELETE /api/v1/torrents/:hash/trackers?url=...  (url repeated for several)
import type { Context, Hono } from "hono";
import type { DaemonControl } from "../../control.ts";
import { trackerUrlProblem } from "../../tracker-list.ts";
import { readJsonObject } from "../body.ts";
import { badRequest } from "../errors.ts";
import { infoHashOf, knownFields, stringField } from "../fields.ts";
import { resource } from "../resource.ts";

export function trackerRoutes(app: Hono, control: DaemonControl): void {
  const hashOf = (c: Context) => infoHashOf(c.req.param("hash"), "the info hash in the path");

  resource(app, "/api/v1/torrents/:hash/trackers", {
    POST: async (c) => {
      const infoHash = hashOf(c);
      control.get(infoHash); // 404 before the body is judged
      const body = await readJsonObject(c.req.raw);
      knownFields(body, ["urls"], "");
      return c.json(await control.editTrackers(infoHash, { add: urlsField(body.urls, "urls") }));
    },
    PATCH: async (c) => {
      const infoHash = hashOf(c);
      control.get(infoHash);
      const body = await readJsonObject(c.req.raw);
      knownFields(body, ["url", "newUrl"], "");
      const url = stringField(body.url, "url");
      return c.json(await control.editTrackers(infoHash, { replace: url, by: trackerUrlField(body.newUrl, "newUrl") }));
    },
    DELETE: async (c) => {
      const infoHash = hashOf(c);
      control.get(infoHash);
      const urls = c.req.queries("url") ?? [];
      if (urls.length === 0) throw badRequest("url", "must name a tracker to remove (the query parameter, repeated for several)");
      return c.json(await control.editTrackers(infoHash, { remove: urls }));
    },
  });
}

function urlsField(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw badRequest(field, "must be a non-empty list of tracker URLs");
  return value.map((url, i) => trackerUrlField(url, `${field}[${i}]`));
}

function trackerUrlField(value: unknown, field: string): string {
  const url = stringField(value, field);
  const problem = trackerUrlProblem(url);
  if (problem !== null) throw badRequest(field, problem);
  return url;
}
