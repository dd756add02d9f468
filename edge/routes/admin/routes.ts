// The admin API under /admin/v1: users, the allowlist and statistics, JSON in and out. Mounted only
// when TRACKER_ADMIN_TOKEN is set; every request must carry it as a bearer token (401 otherwise).
//
//   POST   /users                      {"id": "alice"}          create, with a generated passkey (201)
//   GET    /users?offset=&limit=                                 list, ordered by id, with usage
//   GET    /users/:id                                            one user with usage
//   PATCH  /users/:id                  {"enabled": false}       disable (or enable again)
//   POST   /users/:id/passkey                                    rotate the passkey
//   GET    /users/:id/torrents/:hash                             the user's usage on one torrent
//   POST   /torrents                   {"infoHash": "...", "freeleech": true}   add to the allowlist (201)
//   GET    /torrents?offset=&limit=                              the allowlist, ordered, with usage
//   GET    /torrents/:hash                                       one torrent's flags and usage
//   PATCH  /torrents/:hash             {"freeleech": true}
//   DELETE /torrents/:hash                                       remove from the allowlist
import { Hono, type Context } from "hono";
import { TrackerError } from "../../errors.ts";
import type { SwarmStore } from "../../store/swarm-store.ts";
import { callStore, type TrackerContext } from "../common.ts";
import { AdminError } from "./admin-error.ts";
import { BearerToken } from "./bearer.ts";
import { booleanField, infoHashOf, newPasskey, pageParams, readObject, userIdField, userIdParam } from "./input.ts";

export type AdminContext = Pick<TrackerContext, "requireStore" | "outage" | "counters" | "log">;

export function createAdminApp(t: AdminContext, token: string): Hono {
  const bearer = new BearerToken(token);
  const admin = new Hono();
  const store = (what: string) => {
    const accounts = t.requireStore().accounts;
    return <T>(op: (a: typeof accounts) => Promise<T>) => callStore(t, `admin ${what}`, () => op(accounts));
  };
  const hashParam = (c: Context) => infoHashOf(c.req.param("hash"), "the info hash in the path");

  admin.use("*", async (c, next) => {
    c.header("Cache-Control", "no-store");
    if (!(await bearer.admits(c.req.header("authorization")))) {
      c.header("WWW-Authenticate", "Bearer");
      return c.body(null, 401);
    }
    await next();
  });

  admin.post("/users", async (c) => {
    const id = userIdField(await readObject(c));
    const passkey = newPasskey();
    if (!(await store("create user")((a) => a.createUser(id, passkey)))) throw new AdminError("exists", `user "${id}" already exists`);
    return c.json(await mustUser(store("user"), id), 201);
  });
  admin.get("/users", async (c) => {
    const { offset, limit } = pageParams(c);
    return c.json({ ...(await store("users")((a) => a.listUsers(offset, limit))), offset, limit });
  });
  admin.get("/users/:id", async (c) => c.json(await mustUser(store("user"), userIdParam(c))));
  admin.patch("/users/:id", async (c) => {
    const id = userIdParam(c);
    const enabled = booleanField(await readObject(c), "enabled", true)!;
    if (!(await store("disable user")((a) => a.setUserEnabled(id, enabled)))) throw noUser(id);
    return c.json(await mustUser(store("user"), id));
  });
  admin.post("/users/:id/passkey", async (c) => {
    const id = userIdParam(c);
    if (!(await store("rotate passkey")((a) => a.rotatePasskey(id, newPasskey())))) throw noUser(id);
    return c.json(await mustUser(store("user"), id));
  });
  admin.get("/users/:id/torrents/:hash", async (c) => {
    const id = userIdParam(c);
    const infoHash = hashParam(c);
    const usage = await store("user torrent")((a) => a.userTorrent(id, infoHash));
    if (!usage) throw noUser(id);
    return c.json({ id, infoHash, ...usage });
  });

  admin.post("/torrents", async (c) => {
    const body = await readObject(c);
    const infoHash = infoHashOf(body.infoHash, 'field "infoHash"');
    const freeleech = booleanField(body, "freeleech", false);
    const put = store("allowlist");
    await put((a) => a.allow(infoHash));
    if (freeleech !== undefined) await put((a) => a.setFreeleech(infoHash, freeleech));
    return c.json(await put((a) => a.torrent(infoHash)), 201);
  });
  admin.get("/torrents", async (c) => {
    const { offset, limit } = pageParams(c);
    return c.json({ ...(await store("torrents")((a) => a.listTorrents(offset, limit))), offset, limit });
  });
  admin.get("/torrents/:hash", async (c) => {
    const infoHash = hashParam(c);
    return c.json(await store("torrent")((a) => a.torrent(infoHash)));
  });
  admin.patch("/torrents/:hash", async (c) => {
    const infoHash = hashParam(c);
    const freeleech = booleanField(await readObject(c), "freeleech", true)!;
    const put = store("freeleech");
    await put((a) => a.setFreeleech(infoHash, freeleech));
    return c.json(await put((a) => a.torrent(infoHash)));
  });
  admin.delete("/torrents/:hash", async (c) => {
    const infoHash = hashParam(c);
    if (!(await store("allowlist")((a) => a.disallow(infoHash)))) throw new AdminError("not-found", `${infoHash} is not on the allowlist`);
    return c.json(await store("torrent")((a) => a.torrent(infoHash)));
  });

  admin.onError((err, c) => {
    if (err instanceof AdminError) return c.json({ error: err.code, message: err.message }, err.status);
    if (err instanceof TrackerError) return c.json({ error: err.code, message: err.message }, err.status as 503);
    t.log.error(`bug in the admin API: ${err instanceof Error ? `${err.name}: ${err.message}` : typeof err}`);
    return c.json({ error: "internal", message: "internal tracker error" }, 500);
  });
  return admin;
}

async function mustUser(run: <T>(op: (a: SwarmStore["accounts"]) => Promise<T>) => Promise<T>, id: string) {
  const user = await run((a) => a.user(id));
  if (!user) throw noUser(id);
  return user;
}

function noUser(id: string): AdminError {
  return new AdminError("not-found", `no user "${id}"`);
}
