// Reading request bodies within a bound: the declared Content-Length is checked first, then the bytes
// as they arrive (a chunked body declares none), so an oversized upload is refused before it is held.
import { HttpError } from "./errors.ts";

/** A .torrent of a large multi-file torrent is a few MiB; 16 MiB leaves room and still bounds memory. */
export const MAX_TORRENT_BODY = 16 * 1024 * 1024;
/** JSON bodies: a patch naming the priority of every file of a 50,000-file torrent fits. */
export const MAX_JSON_BODY = 2 * 1024 * 1024;

export async function readBounded(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const tooLarge = () => new HttpError("body-too-large", `the body must be at most ${limit} bytes (${Math.floor(limit / 1024 / 1024)} MiB)`);
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > limit) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/** The body as a JSON object; an empty body is {} when `optional`. */
export async function readJsonObject(request: Request, optional = false): Promise<Record<string, unknown>> {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(await readBounded(request, MAX_JSON_BODY));
  if (text.trim() === "" && optional) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpError("bad-json", `the body is not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new HttpError("bad-json", "the body must be a JSON object");
  return value as Record<string, unknown>;
}

/** The media type of the request without parameters, lower case; "" when there is none. */
export function mediaType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}
