// Every way an admin API request can fail, with a stable code and its HTTP status. The admin app's
// error handler turns these (and store outages) into one JSON shape: {"error": code, "message": text}.

export type AdminErrorCode = "bad-json" | "bad-field" | "bad-param" | "body-too-large" | "not-found" | "exists";

const STATUS: Record<AdminErrorCode, 400 | 404 | 409 | 413> = {
  "bad-json": 400,
  "bad-field": 400,
  "bad-param": 400,
  "body-too-large": 413,
  "not-found": 404,
  exists: 409,
};

export class AdminError extends Error {
  override readonly name = "AdminError";
  constructor(
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): 400 | 404 | 409 | 413 {
    return STATUS[this.code];
  }
}
