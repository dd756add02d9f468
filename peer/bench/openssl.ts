// The native reference for SHA-1: `openssl speed -evp sha1` for one block size, on one core. `-elapsed`
// makes it divide by wall-clock time like our own figures (its default, CPU time, hides a busy machine).

/** openssl's SHA-1 rate in MB/s for `bytes`-sized inputs, or null when openssl is not installed. */
export function opensslSha1(bytes: number, seconds = 1): number | null {
  if (!Bun.which("openssl")) return null;
  const r = Bun.spawnSync(["openssl", "speed", "-elapsed", "-evp", "sha1", "-seconds", String(seconds), "-bytes", String(bytes)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) return null;
  // The last line reads "sha1   2008023.04k": thousands of bytes per second.
  const m = /^sha1\s+([\d.]+)k\s*$/m.exec(r.stdout.toString());
  return m ? (Number(m[1]) * 1000) / 1e6 : null;
}
