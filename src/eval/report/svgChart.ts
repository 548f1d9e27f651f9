/**
 * A small hand-written SVG chart (no dependency): markers per series, an optional polyline per series (a Pareto
 * front, a curve), an optional horizontal reference line, linear or logarithmic axes with readable ticks, a legend
 * in columns under the plot (the plot keeps the full width), and each point's own label (its setting) beside it
 * wherever it fits without covering another label or marker. Every series has its own colour and marker shape
 * pair. Titles and axis labels too long for the chart wrap onto a second line. Points that a log axis cannot show
 * (≤ 0) or that are not finite are left out.
 */
export interface XY {
  readonly x: number;
  readonly y: number;
  /** the point's setting, written beside its marker where there is room */
  readonly label?: string;
}

export interface ChartSeries {
  readonly name: string;
  readonly points: readonly XY[];
  /** drawn as a connected line (in the order given), e.g. the series' Pareto front */
  readonly line?: readonly XY[];
}

export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xLog: boolean;
  readonly yLog: boolean;
  readonly series: readonly ChartSeries[];
  readonly reference?: { readonly y: number; readonly label: string };
}

const WIDTH = 960;
const PLOT_LEFT = 92;
const PLOT_RIGHT = 936;
const PLOT_HEIGHT = 380;
const TITLE_SIZE = 15;
const LABEL_SIZE = 12;
const POINT_LABEL_SIZE = 9;
const LEGEND_ROW = 17;
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

interface Axis {
  map(value: number): number;
  readonly ticks: readonly number[];
  shows(value: number): boolean;
}

function niceStep(span: number): number {
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * power;
}

function makeAxis(values: readonly number[], log: boolean, from: number, to: number): Axis {
  const shows = (v: number) => Number.isFinite(v) && (!log || v > 0);
  const usable = values.filter(shows);
  let lo = usable.length > 0 ? Math.min(...usable) : log ? 1 : 0;
  let hi = usable.length > 0 ? Math.max(...usable) : log ? 10 : 1;
  if (log) {
    lo = Math.log10(lo);
    hi = Math.log10(hi);
  }
  if (hi - lo < 1e-9) {
    const pad = log ? 0.5 : Math.max(Math.abs(lo) * 0.1, 0.5);
    lo -= pad;
    hi += pad;
  }
  const margin = (hi - lo) * 0.06;
  lo -= margin;
  hi += margin;
  const toPixel = (t: number) => from + ((t - lo) / (hi - lo)) * (to - from);
  return { map: (v) => toPixel(log ? Math.log10(v) : v), ticks: log ? logTicks(lo, hi) : linearTicks(lo, hi), shows };
}

function linearTicks(lo: number, hi: number): number[] {
  const step = niceStep(hi - lo);
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

function logTicks(lo: number, hi: number): number[] {
  const pick = (mantissas: readonly number[]) => {
    const ticks: number[] = [];
    for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
      for (const m of mantissas) {
        const v = m * 10 ** k;
        if (Math.log10(v) >= lo && Math.log10(v) <= hi) ticks.push(v);
      }
    }
    return ticks;
  };
  const decades = hi - lo;
  if (decades > 6) return pick([1]);
  const coarse = pick([1, 2, 5]);
  if (coarse.length >= 5) return coarse;
  const fine = pick([1, 1.5, 2, 3, 4, 5, 6, 8]);
  if (fine.length >= 4) return fine;
  // a narrow range (perplexities within a few percent of each other): evenly spaced round values inside it
  return linearTicks(10 ** lo, 10 ** hi);
}

export function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-2) return v.toExponential(0).replace("e+", "e");
  return String(Number(v.toPrecision(3)));
}

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

function marker(shape: number, x: number, y: number, color: string): string {
  const r = 4;
  switch (shape) {
    case 0:
      return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r}" fill="${color}"/>`;
    case 1:
      return `<rect x="${(x - r).toFixed(1)}" y="${(y - r).toFixed(1)}" width="${2 * r}" height="${2 * r}" fill="${color}"/>`;
    case 2:
      return `<path d="M${x.toFixed(1)},${(y - r - 1).toFixed(1)} l${r + 1},${2 * r + 1} h-${2 * r + 2}z" fill="${color}"/>`;
    default:
      return `<path d="M${x.toFixed(1)},${(y - r - 1).toFixed(1)} l${r + 1},${r + 1} l-${r + 1},${r + 1} l-${r + 1},-${r + 1}z" fill="${color}"/>`;
  }
}

/** Width of `text` at `size` px in a sans-serif font, estimated (SVG has no text measurement without a renderer). */
function textWidth(text: string, size: number): number {
  return text.length * size * 0.6;
}

/** Splits `text` into lines of at most `width` px at spaces (one line when it fits). */
export function wrapText(text: string, size: number, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    const next = line === "" ? word : `${line} ${word}`;
    if (line !== "" && textWidth(next, size) > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  lines.push(line);
  return lines;
}

interface Box {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

function overlaps(a: Box, b: Box): boolean {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

/**
 * Places point labels: each tries right, left, above, below its marker and takes the first spot inside the plot that
 * covers no marker and no label placed before it; a label with no free spot is left out (the legend still names its
 * series). Returns the SVG text elements.
 */
function placeLabels(points: readonly { px: number; py: number; label: string; color: string }[], plot: Box, reserved: readonly Box[]): string[] {
  const markerBoxes: Box[] = points.map((p) => ({ x0: p.px - 5, y0: p.py - 5, x1: p.px + 5, y1: p.py + 5 }));
  const placed: Box[] = [...reserved];
  const out: string[] = [];
  points.forEach((p, i) => {
    const w = textWidth(p.label, POINT_LABEL_SIZE);
    const h = POINT_LABEL_SIZE + 2;
    const candidates: Box[] = [
      { x0: p.px + 7, y0: p.py - h / 2, x1: p.px + 7 + w, y1: p.py + h / 2 },
      { x0: p.px - 7 - w, y0: p.py - h / 2, x1: p.px - 7, y1: p.py + h / 2 },
      { x0: p.px - w / 2, y0: p.py - 7 - h, x1: p.px + w / 2, y1: p.py - 7 },
      { x0: p.px - w / 2, y0: p.py + 7, x1: p.px + w / 2, y1: p.py + 7 + h },
    ];
    const free = candidates.find(
      (c) =>
        c.x0 >= plot.x0 && c.x1 <= plot.x1 && c.y0 >= plot.y0 && c.y1 <= plot.y1 &&
        !placed.some((b) => overlaps(b, c)) &&
        !markerBoxes.some((b, j) => j !== i && overlaps(b, c)),
    );
    if (free === undefined) return;
    placed.push(free);
    out.push(`<text x="${free.x0.toFixed(1)}" y="${(free.y1 - 2).toFixed(1)}" font-size="${POINT_LABEL_SIZE}" fill="${p.color}">${escapeXml(p.label)}</text>`);
  });
  return out;
}

/** Series i: colour i mod 10 and shape i mod 4, so no two of the first 20 series look alike and neighbours differ in both. */
function styleOf(i: number): { color: string; shape: number } {
  return { color: PALETTE[i % PALETTE.length]!, shape: i % 4 };
}

export function renderChart(spec: ChartSpec): string {
  const plotWidth = PLOT_RIGHT - PLOT_LEFT;
  const titleLines = wrapText(spec.title, TITLE_SIZE, WIDTH - 40);
  const top = 16 + titleLines.length * (TITLE_SIZE + 4) + 8;
  const plot = { left: PLOT_LEFT, right: PLOT_RIGHT, top, bottom: top + PLOT_HEIGHT };
  // legend: as many columns as the widest name allows, under the x-axis label
  const legendNames = spec.series.map((s) => s.name);
  const columnWidth = Math.min(plotWidth, Math.max(120, ...legendNames.map((n) => textWidth(n, 11) + 28)));
  const columns = Math.max(1, Math.floor(plotWidth / columnWidth));
  const legendRows = Math.ceil(legendNames.length / columns);
  const legendTop = plot.bottom + 58;
  const height = legendTop + legendRows * LEGEND_ROW + 12;

  const all = spec.series.flatMap((s) => [...s.points, ...(s.line ?? [])]);
  const ys = all.map((p) => p.y).concat(spec.reference ? [spec.reference.y] : []);
  const x = makeAxis(all.map((p) => p.x), spec.xLog, plot.left, plot.right);
  const y = makeAxis(ys, spec.yLog, plot.bottom, plot.top);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="${LABEL_SIZE}">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
  ];
  titleLines.forEach((line, i) => {
    out.push(`<text x="${WIDTH / 2}" y="${22 + i * (TITLE_SIZE + 4)}" text-anchor="middle" font-size="${TITLE_SIZE}">${escapeXml(line)}</text>`);
  });
  for (const t of x.ticks) {
    const px = x.map(t).toFixed(1);
    out.push(`<line x1="${px}" y1="${plot.top}" x2="${px}" y2="${plot.bottom}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${px}" y="${plot.bottom + 16}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  for (const t of y.ticks) {
    const py = y.map(t).toFixed(1);
    out.push(`<line x1="${plot.left}" y1="${py}" x2="${plot.right}" y2="${py}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${plot.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${formatTick(t)}</text>`);
  }
  out.push(`<rect x="${plot.left}" y="${plot.top}" width="${plotWidth}" height="${PLOT_HEIGHT}" fill="none" stroke="#444"/>`);
  out.push(`<text x="${(plot.left + plot.right) / 2}" y="${plot.bottom + 38}" text-anchor="middle">${escapeXml(spec.xLabel)}${spec.xLog ? " (log scale)" : ""}</text>`);
  const yMid = (plot.top + plot.bottom) / 2;
  const yLines = wrapText(`${spec.yLabel}${spec.yLog ? " (log scale)" : ""}`, LABEL_SIZE, PLOT_HEIGHT);
  yLines.forEach((line, i) => {
    const lx = 16 + i * (LABEL_SIZE + 3);
    out.push(`<text x="${lx}" y="${yMid}" text-anchor="middle" transform="rotate(-90 ${lx} ${yMid})">${escapeXml(line)}</text>`);
  });
  const reserved: Box[] = [];
  if (spec.reference && y.shows(spec.reference.y)) {
    const py = y.map(spec.reference.y);
    out.push(`<line x1="${plot.left}" y1="${py.toFixed(1)}" x2="${plot.right}" y2="${py.toFixed(1)}" stroke="#000" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${plot.right - 4}" y="${(py - 5).toFixed(1)}" text-anchor="end">${escapeXml(spec.reference.label)}</text>`);
    reserved.push({ x0: plot.right - 4 - textWidth(spec.reference.label, LABEL_SIZE), y0: py - 5 - LABEL_SIZE, x1: plot.right, y1: py - 3 });
  }
  const visible = (p: XY) => x.shows(p.x) && y.shows(p.y);
  const labelled: { px: number; py: number; label: string; color: string }[] = [];
  spec.series.forEach((s, i) => {
    const { color, shape } = styleOf(i);
    const line = (s.line ?? []).filter(visible);
    if (line.length > 1) {
      const d = line.map((p) => `${x.map(p.x).toFixed(1)},${y.map(p.y).toFixed(1)}`).join(" ");
      out.push(`<polyline points="${d}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
    }
    for (const p of s.points.filter(visible)) {
      out.push(marker(shape, x.map(p.x), y.map(p.y), color));
      if (p.label) labelled.push({ px: x.map(p.x), py: y.map(p.y), label: p.label, color });
    }
    const lx = plot.left + (i % columns) * columnWidth;
    const ly = legendTop + Math.floor(i / columns) * LEGEND_ROW;
    out.push(marker(shape, lx + 6, ly, color));
    out.push(`<text x="${lx + 16}" y="${ly}" dominant-baseline="middle" font-size="11">${escapeXml(s.name)}</text>`);
  });
  out.push(...placeLabels(labelled, { x0: plot.left, y0: plot.top, x1: plot.right, y1: plot.bottom }, reserved));
  out.push("</svg>");
  return out.join("\n") + "\n";
}
