// Reading qBittorrent API parameters: from the query string, a urlencoded form or a multipart form
// (qBittorrent accepts each), with the same conventions it uses: `hashes` as `h1|h2` or `all`, booleans
// as "true"/"false", lists separated by `|`, `,` or newlines depending on the field.
import type { Context } from "hono";

export class BadParam extends Error {}

export class Params {
  private constructor(private readonly values: Map<string, (string | File)[]>) {}

  static async of(c: Context): Promise<Params> {
    const values = new Map<string, (string | File)[]>();
    const put = (k: string, v: string | File) => values.set(k, [...(values.get(k) ?? []), v]);
    for (const [k, v] of new URL(c.req.url).searchParams) put(k, v);
    if (c.req.method === "POST") {
      const type = c.req.header("content-type") ?? "";
      if (type.startsWith("multipart/form-data") || type.startsWith("application/x-www-form-urlencoded")) {
        let form: FormData;
        try {
          form = await c.req.raw.formData();
        } catch {
          throw new BadParam("the form could not be read");
        }
        for (const [k, v] of form) put(k, v as string | File);
      }
    }
    return new Params(values);
  }

  text(name: string): string | undefined {
    const v = this.values.get(name)?.[0];
    return typeof v === "string" ? v : undefined;
  }

  required(name: string): string {
    const v = this.text(name);
    if (v === undefined) throw new BadParam(`missing parameter "${name}"`);
    return v;
  }

  /** Every uploaded file, whatever its field is named (qBittorrent takes them all as .torrent files). */
  files(): File[] {
    return [...this.values.values()].flat().filter((v): v is File => typeof v !== "string");
  }

  bool(name: string): boolean | undefined {
    const v = this.text(name);
    if (v === undefined || v === "") return undefined;
    return v.toLowerCase() === "true";
  }

  /** A finite number, or undefined when absent; anything else is a 400. */
  number(name: string): number | undefined {
    const v = this.text(name);
    if (v === undefined || v === "") return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new BadParam(`parameter "${name}" is not a number: "${v}"`);
    return n;
  }

  /** `all`, or info hashes separated by `|` (lower-cased; malformed ones dropped, as qBittorrent ignores them). */
  hashes(name = "hashes"): "all" | string[] {
    const v = this.required(name);
    if (v === "all") return "all";
    return v
      .split("|")
      .map((h) => h.trim().toLowerCase())
      .filter((h) => /^[0-9a-f]{40}$/.test(h));
  }

  /** One info hash (`hash`); malformed is a 400 here since it names one torrent. */
  hash(): string {
    const v = this.required("hash").trim().toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(v)) throw new NotFound();
    return v;
  }
}

/** qBittorrent answers an unknown torrent with 404 "Not Found". */
export class NotFound extends Error {}
