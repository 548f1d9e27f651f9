import { test } from "node:test";
import assert from "node:assert/strict";
import { renderChart, wrapText, type ChartSeries } from "../../src/eval/report/svgChart.js";
import { tokenTickStep, widthHeatmapSvg } from "../../src/eval/widthHeatmap.js";

/** Readable figures: the chart's legend sits under the plot, titles wrap, points carry their settings; kvmap has ticks. */
const texts = (svg: string) => [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)<\/text>/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]), text: m[3]! }));

test("chart: the legend is under the plot, so the plot keeps the width; each of 20 series looks different", () => {
  const series: ChartSeries[] = Array.from({ length: 20 }, (_, i) => ({ name: `method ${i} with a fairly long descriptive name`, points: [{ x: i + 1, y: i + 2 }] }));
  const svg = renderChart({ title: "t", xLabel: "x", yLabel: "y", xLog: false, yLog: false, series });
  const frame = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none"/.exec(svg)!;
  const [left, top, width, height] = frame.slice(1).map(Number) as [number, number, number, number];
  assert.ok(width >= 0.85 * 960, `plot width ${width}`);
  for (const entry of texts(svg).filter((t) => t.text.startsWith("method "))) {
    assert.ok(entry.y > top + height, `legend entry "${entry.text}" at y ${entry.y} is below the plot (bottom ${top + height})`);
    assert.ok(entry.x >= left && entry.x < 960, `legend entry at x ${entry.x}`);
  }
  const styles = new Set([...svg.matchAll(/<(circle|rect|path)[^>]*fill="(#[0-9a-f]{6})"/g)].map((m) => `${m[1]} ${m[2]}`));
  assert.equal(styles.size, 20, "20 distinct marker shape and colour pairs");
});

test("chart: a long title wraps to fit the width; each point's setting is written beside it when there is room", () => {
  const title = "tinystories (stream): KL(fp32 ‖ cache) on every scored token against measured compression for every method in the grid";
  assert.ok(wrapText(title, 15, 920).length > 1);
  const svg = renderChart({
    title,
    xLabel: "x",
    yLabel: "y",
    xLog: false,
    yLog: false,
    series: [{ name: "uniform", points: [{ x: 1, y: 1, label: "bits=8" }, { x: 5, y: 5, label: "bits=4" }, { x: 9, y: 9, label: "bits=2" }] }],
  });
  const titleLines = texts(svg).filter((t) => title.includes(t.text) && t.text.length > 10);
  assert.ok(titleLines.length > 1, "title on more than one line");
  for (const line of titleLines) assert.ok(line.text.length * 15 * 0.6 <= 960, `title line "${line.text}" fits`);
  for (const label of ["bits=8", "bits=4", "bits=2"]) assert.ok(texts(svg).some((t) => t.text === label), `label ${label}`);
});

test("kvmap heatmap: token-position ticks at a round step", () => {
  assert.equal(tokenTickStep(304), 50);
  assert.equal(tokenTickStep(40), 5);
  assert.equal(tokenTickStep(3), 1);
  const row = (n: number) => Array.from({ length: n }, (_, t) => (t < n - 2 ? 2 : 16));
  const svg = widthHeatmapSvg([{ keys: [row(304)], values: [row(304)] }], "widths");
  const ticks = texts(svg).map((t) => t.text).filter((t) => /^\d+$/.test(t));
  assert.deepEqual(ticks.slice(0, 7), ["0", "50", "100", "150", "200", "250", "300"]);
  assert.ok(svg.includes("token position (304 tokens)"));
});
