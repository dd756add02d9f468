// `torrents/addTrackers`, `editTracker` and `removeTrackers` of the qBittorrent Web API v2 over
// DaemonControl.editTrackers, with qBittorrent 4.5.2's answers: 404 for a hash it lacks; editTracker's 409
// "Tracker not found" and "New tracker URL already exists", 400 for a new URL that is not one, nothing done
// when both are the same; removeTrackers passes by URLs the torrent lacks. Where btpeer is stricter: a URL
// it cannot announce to (not http(s):// or udp://host:port) is a 400 naming it, where qBittorrent lists it.
// Added trackers come after the torrent's, each a tier of its own (blank lines only separate them).
import type { Hono } from "hono";
import { DaemonError, type DaemonControl, type TrackerEdit } from "../control.ts";
import { BadParam, NotFound, Params } from "./params.ts";

export function trackerRoutes(app: Hono, control: DaemonControl): void {
  const edit = async (hash: string, change: TrackerEdit) => {
    try {
      await control.editTrackers(hash, change);
    } catch (error) {
      if (!(error instanceof DaemonError)) throw error;
      if (error.code === "not-found") throw new NotFound();
      if (error.code === "bad-request") throw new BadParam(error.message);
      if (error.code === "no-such-tracker") throw new Conflict("Tracker not found");
      if (error.code === "tracker-exists") throw new Conflict("New tracker URL already exists");
      throw error;
    }
  };
  const trackersOf = (hash: string): string[] => {
    try {
      return control.get(hash).trackers.map((t) => t.url);
    } catch (error) {
      if (error instanceof DaemonError && error.code === "not-found") throw new NotFound();
      throw error;
    }
  };

  app.post("/torrents/addTrackers", async (c) => {
    const p = await Params.of(c);
    const hash = p.hash();
    const urls = p
      .required("urls")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "");
    trackersOf(hash); // 404 before the URLs are judged
    if (urls.length > 0) await edit(hash, { add: urls });
    return c.body(null, 200);
  });

  // editTrackers: the name @ctrl/qbittorrent and qBittorrent 5 use (with `url` beside `origUrl`).
  for (const route of ["/torrents/editTracker", "/torrents/editTrackers"]) {
    app.post(route, async (c) => {
      const p = await Params.of(c);
      const hash = p.hash();
      const origUrl = p.text("origUrl") ?? p.required("url");
      const newUrl = p.required("newUrl").trim();
      trackersOf(hash);
      if (origUrl === newUrl) return c.body(null, 200);
      if (newUrl === "") throw new BadParam("New tracker URL is invalid");
      await edit(hash, { replace: origUrl, by: newUrl });
      return c.body(null, 200);
    });
  }

  app.post("/torrents/removeTrackers", async (c) => {
    const p = await Params.of(c);
    const hash = p.hash();
    const present = new Set(trackersOf(hash));
    const urls = p
      .required("urls")
      .split("|")
      .filter((url) => present.has(url));
    if (urls.length > 0) await edit(hash, { remove: urls });
    return c.body(null, 200);
  });
}

/** qBittorrent's 409 with its text. */
export class Conflict extends Error {}
