// POST /api/v1/torrents: what to add and how, from one of three bodies.
//   application/x-bittorrent   the .torrent's bytes; options as query parameters
//   multipart/form-data        field `torrent` (a file), `magnet` or `url` (of a .torrent); options as query
//                              parameters or fields
//   application/json           {"torrent": "<base64>"}, {"magnet": "..."} or {"url": "..."}, options as fields
// Options, flat whatever the body: savePath, paused, sequential, skip (file indices), filePriorities,
// uploadLimit, downloadLimit, maxPeers, ratioLimit, seedTimeLimit.
import type { AddTorrentRequest, FilePriority } from "../control.ts";
import { fetchTorrentFile } from "../fetch-torrent.ts";
import { MAX_TORRENT_BODY, mediaType, readBounded, readJsonObject } from "./body.ts";
import { badRequest, HttpError } from "./errors.ts";
import { booleanField, fileIndex, knownFields, maxPeersField, prioritiesField, rateField, ratioField, secondsField, stringField, textValue } from "./fields.ts";

export const ADD_OPTIONS = [
  "savePath",
  "paused",
  "sequential",
  "skip",
  "filePriorities",
  "uploadLimit",
  "downloadLimit",
  "maxPeers",
  "ratioLimit",
  "seedTimeLimit",
] as const;

/** What the request names; a URL is fetched only once the options are known to be right. */
type Source = AddTorrentRequest["source"] | { url: string };

const BITTORRENT_TYPES = new Set(["application/x-bittorrent", "application/octet-stream"]);

export async function readAddRequest(request: Request): Promise<AddTorrentRequest> {
  const type = mediaType(request);
  const query = Object.fromEntries(new URL(request.url).searchParams);
  const fromQuery = Object.fromEntries(Object.entries(query).map(([name, text]) => [name, optionValue(name, text)]));
  if (BITTORRENT_TYPES.has(type)) {
    const torrent = await readBounded(request, MAX_TORRENT_BODY);
    if (torrent.length === 0) throw badRequest("the body", "is empty: send the .torrent file's bytes");
    return complete({ torrent }, fromQuery);
  }
  if (type === "multipart/form-data") return readMultipart(request, fromQuery);
  if (type === "application/json") return readJson(request, fromQuery);
  throw new HttpError(
    "unsupported-media-type",
    `Content-Type "${type || "(none)"}" is not taken here: send application/x-bittorrent (the .torrent's bytes), multipart/form-data (field torrent or magnet) or application/json`,
  );
}

async function readMultipart(request: Request, fromQuery: Record<string, unknown>): Promise<AddTorrentRequest> {
  // Bounded before parsing: formData() would otherwise hold whatever arrives.
  const bytes = await readBounded(request, MAX_TORRENT_BODY);
  let form: FormData;
  try {
    form = await new Response(bytes, { headers: { "content-type": request.headers.get("content-type")! } }).formData();
  } catch {
    throw badRequest("the body", "is not readable multipart/form-data");
  }
  const fields: Record<string, unknown> = { ...fromQuery };
  let source: Source | undefined;
  for (const [name, entry] of form.entries()) {
    const value = entry as string | Blob; // a field's text, or an uploaded file
    if (name === "torrent") {
      const torrent = typeof value === "string" ? new TextEncoder().encode(value) : new Uint8Array(await value.arrayBuffer());
      source = oneSource(source, { torrent });
    } else if (name === "magnet" || name === "url") {
      const text = stringField(typeof value === "string" ? value : await value.text(), name);
      source = oneSource(source, name === "magnet" ? { magnet: text } : { url: text });
    } else fields[name] = typeof value === "string" ? optionValue(name, value) : value;
  }
  if (!source) throw badRequest("the form", "needs a field `torrent` (the .torrent file), `magnet` (a magnet link) or `url` (of a .torrent)");
  return complete(source, fields);
}

async function readJson(request: Request, fromQuery: Record<string, unknown>): Promise<AddTorrentRequest> {
  const { torrent, magnet, url, ...options } = await readJsonObject(request);
  let source: Source | undefined;
  if (torrent !== undefined) source = oneSource(source, { torrent: base64Field(torrent, "torrent") });
  if (magnet !== undefined) source = oneSource(source, { magnet: stringField(magnet, "magnet") });
  if (url !== undefined) source = oneSource(source, { url: stringField(url, "url") });
  if (!source) throw badRequest("the body", 'needs "torrent" (the .torrent file in base64), "magnet" (a magnet link) or "url" (of a .torrent)');
  return complete(source, { ...fromQuery, ...options });
}

function oneSource(had: Source | undefined, source: Source): Source {
  if (had) throw badRequest("the request", "names more than one torrent: send one .torrent or one magnet link");
  return source;
}

function base64Field(value: unknown, field: string): Uint8Array {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) throw badRequest(field, "must be the .torrent file's bytes in base64");
  return Uint8Array.from(Buffer.from(value, "base64"));
}

/** The options checked, then the source fetched when it is a URL. */
async function complete(source: Source, options: Record<string, unknown>): Promise<AddTorrentRequest> {
  const request = withOptions(options);
  if (!("url" in source)) return { source, ...request };
  if (!/^https?:\/\//i.test(source.url)) throw badRequest("url", `must be an http(s) URL of a .torrent file, got "${source.url}"`);
  return { source: { torrent: await fetchTorrentFile(source.url) }, ...request };
}

/** The options, each checked by name; an option this endpoint does not know is refused. */
function withOptions(options: Record<string, unknown>): Omit<AddTorrentRequest, "source"> {
  knownFields(options, ADD_OPTIONS, "");
  const request: Omit<AddTorrentRequest, "source"> = {};
  const has = (name: string) => options[name] !== undefined;
  if (has("savePath")) request.savePath = stringField(options.savePath, "savePath");
  if (has("paused")) request.paused = booleanField(options.paused, "paused");
  if (has("sequential")) request.sequential = booleanField(options.sequential, "sequential");
  const priorities = has("filePriorities") ? prioritiesField(jsonText(options.filePriorities, "filePriorities"), "filePriorities") : {};
  if (has("skip")) {
    for (const index of indexList(options.skip, "skip")) {
      if (priorities[index] !== undefined && priorities[index] !== "skip")
        throw badRequest("skip", `names file ${index}, which filePriorities gives "${priorities[index]}"`);
      priorities[index] = "skip" satisfies FilePriority;
    }
  }
  if (Object.keys(priorities).length > 0) request.filePriorities = priorities;
  const limits: NonNullable<AddTorrentRequest["limits"]> = {};
  if (has("uploadLimit")) limits.uploadLimit = rateField(options.uploadLimit, "uploadLimit");
  if (has("downloadLimit")) limits.downloadLimit = rateField(options.downloadLimit, "downloadLimit");
  if (has("maxPeers")) limits.maxPeers = maxPeersField(options.maxPeers, "maxPeers");
  if (Object.keys(limits).length > 0) request.limits = limits;
  const goals: NonNullable<AddTorrentRequest["goals"]> = {};
  if (has("ratioLimit")) goals.ratioLimit = ratioField(options.ratioLimit, "ratioLimit");
  if (has("seedTimeLimit")) goals.seedTimeLimit = secondsField(options.seedTimeLimit, "seedTimeLimit");
  if (Object.keys(goals).length > 0) request.goals = goals;
  return request;
}

/** filePriorities given as text (a query parameter or form field) is JSON. */
function jsonText(value: unknown, field: string): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    throw badRequest(field, 'must be a JSON object such as {"0":"skip","2":"high"}');
  }
}

/** "0,3,5" or [0, 3, 5] (a single index arrives as a number). */
function indexList(value: unknown, field: string): number[] {
  const items = Array.isArray(value) ? value : typeof value === "number" ? [value] : typeof value === "string" ? value.split(",") : null;
  if (!items) throw badRequest(field, "must list file indices, such as 0,3,5");
  return items.map((item) => fileIndex(String(item).trim(), field));
}

/** An option given as text: a path stays text ("2024" is a folder name too), the others read as JSON values. */
function optionValue(name: string, text: string): unknown {
  return name === "savePath" ? text : textValue(text);
}
