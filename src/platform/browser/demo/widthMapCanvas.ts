/**
 * Draws a cache's width map (per layer, per group, per token: key and value code widths) as a heat map on a canvas:
 * one column per token, two rows per (layer, group), keys above values, one colour per width.
 */
import type { WidthMap } from "../../../cache/CacheReportView.js";

/** Colours of widths 0..8 (light to dark blue) and 16 (fp16: amber), so wider codes read as heavier. */
const WIDTH_COLOURS: Readonly<Record<number, string>> = {
  0: "#f2f4f7",
  1: "#d6e6f5",
  2: "#b0d0ea",
  3: "#84b6dd",
  4: "#5b9bcf",
  5: "#3a7fbd",
  6: "#2464a5",
  7: "#154b87",
  8: "#0b3468",
  16: "#e69b27",
};

export function widthColour(width: number): string {
  return WIDTH_COLOURS[width] ?? "#c2185b";
}

/** The legend's entries: [label, colour]. */
export function widthLegend(): [string, string][] {
  return Object.keys(WIDTH_COLOURS).map((w) => [w === "16" ? "fp16" : `${w} bit${w === "1" ? "" : "s"}`, WIDTH_COLOURS[Number(w)]!]);
}

/** Layout: `capacity` token columns across the canvas; rows of (layer, group, part). */
export function drawWidthMap(canvas: HTMLCanvasElement, map: WidthMap, capacity: number): void {
  const groups = map.reduce((sum, layer) => sum + layer.keys.length, 0);
  const rows = 2 * groups;
  const rowHeight = Math.max(3, Math.min(8, Math.floor(320 / Math.max(rows, 1))));
  const gap = 2;
  canvas.height = rows * rowHeight + map.length * gap;
  const columnWidth = canvas.width / capacity;
  const context = canvas.getContext("2d")!;
  context.clearRect(0, 0, canvas.width, canvas.height);
  let y = 0;
  for (const layer of map) {
    for (let g = 0; g < layer.keys.length; g++) {
      for (const part of [layer.keys[g]!, layer.values[g]!]) {
        for (let t = 0; t < part.length; t++) {
          context.fillStyle = widthColour(part[t]!);
          context.fillRect(Math.floor(t * columnWidth), y, Math.max(1, Math.ceil(columnWidth)), rowHeight);
        }
        y += rowHeight;
      }
    }
    y += gap;
  }
}
