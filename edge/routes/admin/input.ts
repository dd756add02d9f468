// Reading admin requests: a bounded JSON body, typed fields, path ids and pagination, each failing
// with an AdminError that names what was wrong.
import type { Context } from "hono";
import { PASSKEY_PATTERN, USER_ID_PATTERN } from "../../store/account-store.ts";
import { AdminError } from "./admin-error.ts";

/** Admin bodies are a few fields; anything larger is a mistake or an attack. */
const MAX_BODY_BYTES = 4096;
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/** The body as a JSON object; an empty body reads as {} when `optional`. */
export async function readObject(c: Context, optional = false): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (new TextEncoder().encode(text).length > MAX_BODY_BYTES) throw new AdminError("body-too-large", `the body must be at most ${MAX_BODY_BYTES} bytes`);
  if (text.trim() === "" && optional) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AdminError("bad-json", "the body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new AdminError("bad-json", "the body must be a JSON object");
  return value as Record<string, unknown>;
}

export function userIdField(body: Record<string, unknown>): string {
  const id = body.id;
  if (typeof id !== "string" || !USER_ID_PATTERN.test(id)) {
    throw new AdminError("bad-field", 'field "id" must be a string of 1-64 letters, digits, "_", "." or "-"');
  }
  return id;
}

export function booleanField(body: Record<string, unknown>, name: string, required: boolean): boolean | undefined {
  const value = body[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== "boolean") throw new AdminError("bad-field", `field "${name}" must be true or false`);
  return value;
}

/** An info hash as 40 hex digits (either case), returned in lower case as the stores keep it. */
export function infoHashOf(text: unknown, where: string): string {
  if (typeof text !== "string" || !/^[0-9a-fA-F]{40}$/.test(text))
    throw new AdminError(where.startsWith("field") ? "bad-field" : "bad-param", `${where} must be an info hash of 40 hex digits`);
  return text.toLowerCase();
}

export function userIdParam(c: Context): string {
  const id = c.req.param("id") ?? "";
  if (!USER_ID_PATTERN.test(id)) throw new AdminError("bad-param", 'the user id in the path must be 1-64 letters, digits, "_", "." or "-"');
  return id;
}

/** `offset` (default 0) and `limit` (default 50, at most 200) from the query. */
export function pageParams(c: Context): { offset: number; limit: number } {
  const read = (name: string, fallback: number, min: number, max: number) => {
    const raw = c.req.query(name);
    if (raw === undefined || raw === "") return fallback;
    const n = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max)) throw new AdminError("bad-param", `${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
  return { offset: read("offset", 0, 0, 1_000_000_000), limit: read("limit", DEFAULT_LIMIT, 1, MAX_LIMIT) };
}

/** A new passkey: 16 random bytes as 32 hex digits. */
export function newPasskey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const passkey = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  if (!PASSKEY_PATTERN.test(passkey)) throw new Error("passkey generation broke");
  return passkey;
}
