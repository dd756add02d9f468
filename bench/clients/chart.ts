// The bench:clients chart: grouped bars per client (leeching from a btpeer seeder, leeching from a
// libtorrent seeder, and btpeer leeching from that client as the seeder), as a standalone SVG file.

export interface ChartGroup {
  label: string;
  fromBtpeer: number | null;
  fromLibtorrent: number | null;
  btpeerFromIt: number | null;
}

const SERIES = [
  { key: "fromBtpeer", name: "leeching from btpeer", color: "#3b6fd8" },
  { key: "fromLibtorrent", name: "leeching from libtorrent", color: "#9aa5b8" },
  { key: "btpeerFromIt", name: "btpeer leeching from it", color: "#1f9d55" },
] as const;

const xmlText = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function chartSvg(groups: ChartGroup[], subtitle: string): string {
  const width = 860;
  const height = 360;
  const left = 60;
  const bottom = 300;
  const top = 60;
  const max = Math.max(1, ...groups.flatMap((g) => SERIES.map((s) => g[s.key] ?? 0)));
  const scale = (bottom - top) / (max * 1.1);
  const groupWidth = (width - left - 20) / Math.max(1, groups.length);
  const bar = Math.min(28, (groupWidth - 16) / SERIES.length);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="${left}" y="22" font-size="16" font-weight="600">bench:clients — MB/s (higher is better)</text>`);
  out.push(`<text x="${left}" y="40" fill="#4a5568">${xmlText(subtitle)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (max * 1.1 * i) / 4;
    const y = bottom - v * scale;
    out.push(`<line x1="${left}" x2="${width - 20}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#eef1f5"/>`);
    out.push(`<text x="${left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#4a5568">${v.toFixed(0)}</text>`);
  }
  groups.forEach((g, gi) => {
    const x0 = left + gi * groupWidth + (groupWidth - bar * SERIES.length) / 2;
    SERIES.forEach((s, si) => {
      const v = g[s.key];
      if (v === null) return;
      const h = v * scale;
      const x = x0 + si * bar;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${(bar - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${s.color}"><title>${xmlText(`${g.label}, ${s.name}: ${v.toFixed(0)} MB/s`)}</title></rect>`,
      );
      out.push(
        `<text x="${(x + bar / 2 - 1).toFixed(1)}" y="${(bottom - h - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#1d2430">${v.toFixed(0)}</text>`,
      );
    });
    out.push(`<text x="${(left + gi * groupWidth + groupWidth / 2).toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${xmlText(g.label)}</text>`);
  });
  SERIES.forEach((s, si) => {
    const x = left + si * 220;
    out.push(`<rect x="${x}" y="${height - 30}" width="12" height="12" fill="${s.color}"/>`);
    out.push(`<text x="${x + 18}" y="${height - 20}">${xmlText(s.name)}</text>`);
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
