import type { WidthMap } from "../cache/CacheReportView.js";

/**
 * An SVG heatmap of per-token widths: token positions left to right (ticks at a round step), one row per (layer,
 * group), keys in a block above values, colour by width (0..8 bits on a dark-to-bright ramp, 16 = fp16 in grey),
 * with a legend. The title wraps when it is wider than the picture. Hand-written SVG: no dependency, opens in any
 * browser.
 */
const CELL_H = 11;
const LEFT = 84;
const RIGHT = 24;
const TITLE_SIZE = 13;
const BLOCK_GAP = 22;

/** A round tick step (1, 2, 5 × 10^k) giving at most ~12 ticks over `span` tokens. */
export function tokenTickStep(span: number): number {
  const raw = Math.max(1, span / 12);
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

export function widthHeatmapSvg(map: WidthMap, title: string): string {
  const tokens = Math.max(1, ...map.flatMap((l) => l.keys.map((g) => g.length)));
  const cellW = Math.max(1, Math.min(12, Math.floor(1200 / tokens)));
  const width = Math.max(LEFT + tokens * cellW + RIGHT, 520);
  const titleLines = wrap(title, TITLE_SIZE, width - LEFT - RIGHT);
  const top = 10 + titleLines.length * (TITLE_SIZE + 4) + 14;
  const out: string[] = [];
  titleLines.forEach((line, i) => out.push(`<text x="${LEFT}" y="${22 + i * (TITLE_SIZE + 4)}" font-size="${TITLE_SIZE}">${escapeXml(line)}</text>`));
  let y = top;
  for (const part of ["keys", "values"] as const) {
    out.push(`<text x="4" y="${y - 4}" font-weight="bold">${part}</text>`);
    map.forEach((layer, l) =>
      layer[part].forEach((widths, g) => {
        out.push(`<text x="4" y="${y + CELL_H - 2}">L${l} ${map[0]!.keys.length > 1 ? `head ${g}` : "all heads"}</text>`);
        // runs of equal width become one rect, which keeps the file small
        let start = 0;
        for (let t = 1; t <= widths.length; t++) {
          if (t === widths.length || widths[t] !== widths[start]) {
            out.push(`<rect x="${LEFT + start * cellW}" y="${y}" width="${(t - start) * cellW}" height="${CELL_H - 1}" fill="${colour(widths[start]!)}"/>`);
            start = t;
          }
        }
        y += CELL_H;
      }),
    );
    y += BLOCK_GAP;
  }
  // token axis under the value block
  const axisY = y - BLOCK_GAP + 4;
  out.push(`<line x1="${LEFT}" y1="${axisY}" x2="${LEFT + tokens * cellW}" y2="${axisY}" stroke="#444"/>`);
  const step = tokenTickStep(tokens);
  for (let t = 0; t < tokens; t += step) {
    const x = LEFT + t * cellW + cellW / 2;
    out.push(`<line x1="${x}" y1="${axisY}" x2="${x}" y2="${axisY + 4}" stroke="#444"/>`);
    out.push(`<text x="${x}" y="${axisY + 15}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<text x="${LEFT + (tokens * cellW) / 2}" y="${axisY + 30}" text-anchor="middle">token position (${tokens} tokens)</text>`);
  const legendY = axisY + 50;
  out.push(`<text x="${LEFT}" y="${legendY - 4}">bits per value</text>`);
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 16].forEach((bits, i) => {
    const x = LEFT + i * 44;
    out.push(`<rect x="${x}" y="${legendY}" width="16" height="12" fill="${colour(bits)}" stroke="#999"/>`);
    out.push(`<text x="${x + 19}" y="${legendY + 10}">${bits === 16 ? "fp16" : bits}</text>`);
  });
  const height = legendY + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...out,
    "</svg>",
  ].join("\n") + "\n";
}

/** Splits `text` at spaces into lines of at most `width` px (estimated at 0.6·size per character). */
function wrap(text: string, size: number, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    const next = line === "" ? word : `${line} ${word}`;
    if (line !== "" && next.length * size * 0.6 > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  lines.push(line);
  return lines;
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
