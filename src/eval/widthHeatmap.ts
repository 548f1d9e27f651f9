import type { WidthMap } from "../cache/CacheReportView.js";

/**
 * An SVG heatmap of QAQ's per-token widths: tokens left to right, one row per (layer, group) for keys and then for
 * values, colour by width (0..8 bits on a dark-to-bright ramp, 16 = fp16 in grey), with a legend. Hand-written SVG:
 * no dependency, opens in any browser.
 */
const CELL_W = 3;
const CELL_H = 8;
const LEFT = 90;
const TOP = 40;

export function widthHeatmapSvg(map: WidthMap, title: string): string {
  const tokens = Math.max(1, ...map.flatMap((l) => l.keys.map((g) => g.length)));
  const rows: { label: string; widths: number[] }[] = [];
  for (const part of ["keys", "values"] as const) {
    map.forEach((layer, l) => layer[part].forEach((widths, g) => rows.push({ label: `${part[0]!.toUpperCase()} L${l} g${g}`, widths })));
  }
  const cellW = Math.max(1, Math.min(CELL_W * 4, Math.floor(1200 / tokens)));
  const width = LEFT + tokens * cellW + 20;
  const height = TOP + rows.length * CELL_H + 70;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="9">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="16" font-size="13">${escapeXml(title)}</text>`,
    `<text x="${LEFT}" y="30">tokens 0..${tokens - 1} →</text>`,
  ];
  rows.forEach((row, r) => {
    const y = TOP + r * CELL_H;
    if (r % 1 === 0 && CELL_H >= 7) out.push(`<text x="2" y="${y + CELL_H - 1}">${row.label}</text>`);
    // runs of equal width become one rect, which keeps the file small
    let start = 0;
    for (let t = 1; t <= row.widths.length; t++) {
      if (t === row.widths.length || row.widths[t] !== row.widths[start]) {
        out.push(`<rect x="${LEFT + start * cellW}" y="${y}" width="${(t - start) * cellW}" height="${CELL_H - 1}" fill="${colour(row.widths[start]!)}"/>`);
        start = t;
      }
    }
  });
  const legendY = TOP + rows.length * CELL_H + 20;
  out.push(`<text x="${LEFT}" y="${legendY - 4}">bits per value</text>`);
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 16].forEach((bits, i) => {
    const x = LEFT + i * 40;
    out.push(`<rect x="${x}" y="${legendY}" width="16" height="12" fill="${colour(bits)}" stroke="#999"/>`);
    out.push(`<text x="${x + 19}" y="${legendY + 10}">${bits === 16 ? "fp16" : bits}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** 0 bits dark blue .. 8 bits yellow (viridis-like anchors), fp16 grey. */
function colour(bits: number): string {
  if (bits >= 16) return "#bbbbbb";
  const anchors = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = (Math.max(0, Math.min(8, bits)) / 8) * (anchors.length - 1);
  const i = Math.min(anchors.length - 2, Math.floor(x));
  const f = x - i;
  const c = anchors[i]!.map((v, k) => Math.round(v + (anchors[i + 1]![k]! - v) * f));
  return `rgb(${c.join(",")})`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
