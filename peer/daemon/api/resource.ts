// One path, its methods: each named method's handler, and 405 with an Allow header for any other, so
// that a wrong method says so rather than "no such endpoint".
import type { Context, Hono } from "hono";
import { HttpError } from "./errors.ts";

type Method = "GET" | "POST" | "PATCH" | "DELETE";
type Handler = (c: Context) => Response | Promise<Response>;

export function resource(app: Hono, path: string, handlers: Partial<Record<Method, Handler>>): void {
  const allowed = Object.keys(handlers) as Method[];
  for (const method of allowed) app.on(method, path, handlers[method]!);
  app.all(path, (c) => {
    c.header("Allow", allowed.join(", "));
    throw new HttpError("method-not-allowed", `${c.req.method} is not supported on ${c.req.path}; use ${allowed.join(" or ")}`);
  });
}
