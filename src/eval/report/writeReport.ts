/**
 * Writes a report folder: <dir>/RESULTS.md, <dir>/figures/*.svg (and *.png when a converter exists) and
 * <dir>/figures/all-runs.md.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { figure2aFigures, paretoFigures } from "./figures.js";
import type { ReportInput } from "./loadResults.js";
import { allRunsFile, resultsMarkdown } from "./markdownReport.js";

export interface ReportOutput {
  readonly markdown: string;
  readonly figures: number;
  readonly pngs: number;
  readonly converter: string | undefined;
}

/** `notes`: markdown placed first in RESULTS.md ("" for none). */
export function writeReport(input: ReportInput, dir: string, command: string, notes: string): ReportOutput {
  const figuresDir = join(dir, "figures");
  mkdirSync(figuresDir, { recursive: true });
  const figures = [...paretoFigures(input.lines), ...figure2aFigures(input.lines)];
  const converter = findPngConverter();
  let pngs = 0;
  for (const figure of figures) {
    const svgPath = join(figuresDir, `${figure.name}.svg`);
    writeFileSync(svgPath, figure.svg);
    if (converter?.convert(svgPath, join(figuresDir, `${figure.name}.png`))) pngs++;
  }
  writeFileSync(join(figuresDir, "all-runs.md"), allRunsFile(input.lines));
  const markdown = join(dir, "RESULTS.md");
  writeFileSync(markdown, resultsMarkdown(input, figures, pngs > 0, command, notes));
  return { markdown, figures: figures.length, pngs, converter: converter?.name };
}

/**
 * PNG copies of the SVG figures, when the machine has a converter: rsvg-convert (librsvg) or ImageMagick's
 * convert. Neither is a dependency; without them the report has SVG only and says so.
 */
interface PngConverter {
  readonly name: string;
  convert(svgPath: string, pngPath: string): boolean;
}

const CANDIDATES: readonly { name: string; probe: string[]; args: (svg: string, png: string) => string[] }[] = [
  { name: "rsvg-convert", probe: ["--version"], args: (svg, png) => ["-o", png, svg] },
  { name: "convert", probe: ["-version"], args: (svg, png) => [svg, png] },
];

function findPngConverter(): PngConverter | undefined {
  for (const c of CANDIDATES) {
    const probe = spawnSync(c.name, c.probe, { stdio: "ignore", timeout: 10_000 });
    if (probe.error === undefined && probe.status === 0) {
      return { name: c.name, convert: (svg, png) => spawnSync(c.name, c.args(svg, png), { stdio: "ignore", timeout: 60_000 }).status === 0 };
    }
  }
  return undefined;
}
