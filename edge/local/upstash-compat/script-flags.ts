// Upstash accepts `#!lua flags=allow-key-locking`; plain Redis rejects flags it does not know. We drop
// the Upstash-only flag before forwarding, and since that changes the script's SHA-1, we translate
// the client's SHA (of the script it sent) to the SHA Redis knows (of the rewritten script).

const UPSTASH_ONLY_FLAGS = new Set(["allow-key-locking"]);

/** The script with Upstash-only shebang flags removed; other flags and the body stay as they were. */
export function stripUpstashFlags(script: string): string {
  if (!script.startsWith("#!")) return script;
  const lineEnd = script.indexOf("\n");
  const shebang = lineEnd < 0 ? script : script.slice(0, lineEnd);
  const rest = lineEnd < 0 ? "" : script.slice(lineEnd);
  const parts = shebang.split(/\s+/);
  const kept = parts.map((part) => {
    if (!part.startsWith("flags=")) return part;
    const flags = part
      .slice("flags=".length)
      .split(",")
      .filter((f) => f !== "" && !UPSTASH_ONLY_FLAGS.has(f));
    return flags.length > 0 ? `flags=${flags.join(",")}` : "";
  });
  return kept.filter((p) => p !== "").join(" ") + rest;
}

export function sha1Hex(text: string): string {
  return new Bun.CryptoHasher("sha1").update(text).digest("hex");
}

type Arg = string | Uint8Array;

/**
 * Rewrites script commands on their way to Redis and remembers SHA translations. The map only grows
 * with distinct scripts, which a tracker has one of.
 */
export class ScriptTranslator {
  /** SHA of the script as the client sent it -> SHA of the script Redis runs. */
  private readonly shas = new Map<string, string>();

  /** Returns the command to send, and for SCRIPT LOAD the SHA the client expects back. */
  translate(args: Arg[]): { args: Arg[]; loadedSha?: string } {
    const name = typeof args[0] === "string" ? args[0].toLowerCase() : "";
    if ((name === "eval" || name === "eval_ro") && typeof args[1] === "string") {
      return { args: [args[0]!, this.rewrite(args[1]), ...args.slice(2)] };
    }
    if ((name === "evalsha" || name === "evalsha_ro") && typeof args[1] === "string") {
      return { args: [args[0]!, this.shas.get(args[1].toLowerCase()) ?? args[1], ...args.slice(2)] };
    }
    if (name === "script" && typeof args[1] === "string") {
      const sub = args[1].toLowerCase();
      if (sub === "load" && typeof args[2] === "string") {
        return { args: [args[0]!, args[1], this.rewrite(args[2])], loadedSha: sha1Hex(args[2]) };
      }
      if (sub === "exists") {
        return { args: args.map((a, i) => (i >= 2 && typeof a === "string" ? (this.shas.get(a.toLowerCase()) ?? a) : a)) };
      }
    }
    return { args };
  }

  private rewrite(script: string): string {
    const stripped = stripUpstashFlags(script);
    if (stripped !== script) this.shas.set(sha1Hex(script), sha1Hex(stripped));
    return stripped;
  }
}
