// Reading /metrics in tests: Prometheus's own `promtool check metrics` must accept the text, then
// the samples are read into a map keyed by name and labels (sorted), e.g.
// `btswarm_announces_total{event="started",outcome="recorded"}`.

/** Runs `promtool check metrics` on the text; throws with promtool's complaints if it finds any. */
export function promtoolCheck(text: string): void {
  const run = Bun.spawnSync(["promtool", "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
  const said = `${run.stdout.toString()}${run.stderr.toString()}`.trim();
  if (run.exitCode !== 0 || said !== "") throw new Error(`promtool check metrics (exit ${run.exitCode}): ${said}\n--- text ---\n${text}`);
}

export type Samples = Map<string, number>;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseSamples(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    out.set(seriesKey(m[1]!, Object.fromEntries([...(m[2] ?? "").matchAll(LABEL)].map((l) => [l[1]!, l[2]!]))), Number(m[3]));
  }
  return out;
}

export function seriesKey(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(",")}}`;
}

/** A sample's value, 0 when the series is absent (counters never seen are left out). */
export function sampleValue(samples: Samples, name: string, labels?: Record<string, string>): number {
  return samples.get(seriesKey(name, labels)) ?? 0;
}

/** The one `instance_id` label value in the samples (each instance reports its own). */
export function instanceIds(samples: Samples): string[] {
  const ids = new Set<string>();
  for (const key of samples.keys()) {
    const m = /instance_id="([^"]*)"/.exec(key);
    if (m) ids.add(m[1]!);
  }
  return [...ids];
}
