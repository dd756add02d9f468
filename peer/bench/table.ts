// One table for every benchmark: each row is a figure, the reference it is compared with (measured in
// the same run), and the ratio. Values are medians over several rounds.

export interface Row {
  /** What was measured, e.g. "SHA-1 Bun.CryptoHasher one-shot, 1 MiB pieces". */
  figure: string;
  value: number;
  unit: string;
  /** The reference figure, measured in the same run, or a note saying why there is none. */
  reference?: { label: string; value: number; unit?: string } | { note: string };
  /** Target for value / reference, shown next to the ratio (e.g. ">= 0.9"). */
  target?: string;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `measure` `rounds` times and returns the median. */
export async function medianOf(rounds: number, measure: () => number | Promise<number>): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < rounds; i++) values.push(await measure());
  return median(values);
}

export function ratioOf(row: Row): number | undefined {
  const ref = row.reference;
  if (!ref || "note" in ref || ref.value === 0) return undefined;
  return row.value / ref.value;
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1e7) return `${(n / 1e6).toFixed(1)} M`;
  if (abs >= 1e4) return Math.round(n).toLocaleString("en-US");
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

/** The table as Markdown (readable in a terminal, pasteable into a README). */
export function formatTable(rows: Row[]): string {
  const header = ["Figure", "Value", "Reference (same run)", "Ratio", "Target"];
  const lines = rows.map((r) => {
    const ref = r.reference;
    const refText = !ref ? "" : "note" in ref ? ref.note : `${ref.label}: ${formatNumber(ref.value)} ${ref.unit ?? r.unit}`;
    const ratio = ratioOf(r);
    return [r.figure, `${formatNumber(r.value)} ${r.unit}`, refText, ratio === undefined ? "" : `${ratio.toFixed(2)}×`, r.target ?? ""];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [fmt(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...lines.map(fmt)].join("\n");
}

/** Rows as JSON lines, for scripts comparing runs. */
export function rowsAsJson(rows: Row[]): string {
  return rows.map((r) => JSON.stringify({ ...r, ratio: ratioOf(r) })).join("\n");
}
