/**
 * A small hand-written SVG chart (no dependency): markers per series, an optional polyline per series (a Pareto
 * front, a curve), an optional horizontal reference line, linear or logarithmic axes with readable ticks, and a
 * legend on the right. Points that a log axis cannot show (≤ 0) or that are not finite are left out.
 */
export interface XY {
  readonly x: number;
  readonly y: number;
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
const HEIGHT = 480;
const PLOT = { left: 78, right: 560, top: 44, bottom: 420 };
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
  return coarse.length >= 5 ? coarse : pick([1, 1.5, 2, 3, 4, 5, 6, 8]);
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

export function renderChart(spec: ChartSpec): string {
  const all = spec.series.flatMap((s) => [...s.points, ...(s.line ?? [])]);
  const ys = all.map((p) => p.y).concat(spec.reference ? [spec.reference.y] : []);
  const x = makeAxis(all.map((p) => p.x), spec.xLog, PLOT.left, PLOT.right);
  const y = makeAxis(ys, spec.yLog, PLOT.bottom, PLOT.top);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${(PLOT.left + PLOT.right) / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(spec.title)}</text>`,
  ];
  for (const t of x.ticks) {
    const px = x.map(t).toFixed(1);
    out.push(`<line x1="${px}" y1="${PLOT.top}" x2="${px}" y2="${PLOT.bottom}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${px}" y="${PLOT.bottom + 16}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  for (const t of y.ticks) {
    const py = y.map(t).toFixed(1);
    out.push(`<line x1="${PLOT.left}" y1="${py}" x2="${PLOT.right}" y2="${py}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${PLOT.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${formatTick(t)}</text>`);
  }
  out.push(`<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}" fill="none" stroke="#444"/>`);
  out.push(`<text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 40}" text-anchor="middle">${escapeXml(spec.xLabel)}${spec.xLog ? " (log scale)" : ""}</text>`);
  const yMid = (PLOT.top + PLOT.bottom) / 2;
  out.push(`<text x="18" y="${yMid}" text-anchor="middle" transform="rotate(-90 18 ${yMid})">${escapeXml(spec.yLabel)}${spec.yLog ? " (log scale)" : ""}</text>`);
  if (spec.reference && y.shows(spec.reference.y)) {
    const py = y.map(spec.reference.y).toFixed(1);
    out.push(`<line x1="${PLOT.left}" y1="${py}" x2="${PLOT.right}" y2="${py}" stroke="#000" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${PLOT.left + 4}" y="${Number(py) - 5}">${escapeXml(spec.reference.label)}</text>`);
  }
  const visible = (p: XY) => x.shows(p.x) && y.shows(p.y);
  spec.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const shape = Math.floor(i / PALETTE.length) % 4;
    const line = (s.line ?? []).filter(visible);
    if (line.length > 1) {
      const d = line.map((p) => `${x.map(p.x).toFixed(1)},${y.map(p.y).toFixed(1)}`).join(" ");
      out.push(`<polyline points="${d}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
    }
    for (const p of s.points.filter(visible)) out.push(marker(shape, x.map(p.x), y.map(p.y), color));
    const ly = PLOT.top + 8 + i * 17;
    out.push(marker(shape, PLOT.right + 22, ly, color));
    out.push(`<text x="${PLOT.right + 32}" y="${ly}" dominant-baseline="middle" font-size="11">${escapeXml(s.name)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
