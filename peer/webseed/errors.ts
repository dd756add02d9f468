// Why a web seed request failed, as one closed set of codes: what the web seed does next depends on it
// (back off, stop asking for one file, or stop using the seed), and events name it.

export type WebSeedErrorCode =
  /** 4xx (but 408 and 429) for a file: that file's pieces are not asked of this seed again. */
  | "file-refused"
  /** Any other status we cannot use (5xx, 408, 429, 1xx...): back off. */
  | "http-status"
  /** No connection, reset, DNS failure: back off. */
  | "network"
  /** No byte for a while, or the request ran past its deadline (a slow server): back off. */
  | "timeout"
  /** The body ended before the bytes asked for: back off. */
  | "short-body"
  /** A 206 whose Content-Range does not start where we asked: back off. */
  | "bad-content-range"
  /** Redirected more often than we follow, or to something that is not http(s): back off. */
  | "bad-redirect"
  /** The server answered a range request with the whole file (200) for bytes past its start: seed dropped. */
  | "no-ranges"
  /** A compressed body (we ask for identity): its bytes are not the file's; seed dropped. */
  | "content-encoded";

export class WebSeedError extends Error {
  override readonly name = "WebSeedError";
  constructor(
    readonly code: WebSeedErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What a failed request means for the seed. */
export function consequence(code: WebSeedErrorCode): "refuse-file" | "drop" | "back-off" {
  if (code === "file-refused") return "refuse-file";
  if (code === "no-ranges" || code === "content-encoded") return "drop";
  return "back-off";
}
