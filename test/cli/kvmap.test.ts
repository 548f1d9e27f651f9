import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/main.js";

const dir = mkdtempSync(join(tmpdir(), "qaq-kvmap-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("kvmap writes every layer's per-token key and value widths as JSON and an SVG heatmap", async () => {
  const prefix = join(dir, "map");
  let err = "";
  const code = await runCli(["kvmap", "--out", prefix, "--max-tokens", "30", "--kv", "qaq:group=head,window=2"], { out: () => {}, err: (t) => void (err += t) });
  assert.equal(code, 0, err);
  const report = JSON.parse(readFileSync(`${prefix}.json`, "utf8")) as { tokens: number; widths: { keys: number[][]; values: number[][] }[] };
  assert.equal(report.widths.length, 5); // stories260K: 5 layers
  for (const layer of report.widths) {
    assert.equal(layer.keys.length, 4); // 4 KV heads
    for (const row of [...layer.keys, ...layer.values]) {
      assert.equal(row.length, report.tokens);
      for (const w of row) assert.ok((w >= 0 && w <= 8) || w === 16, `width ${w}`);
    }
  }
  // the newest tokens (fewer than `window` observations) are still held in fp16; older ones are packed
  const keys0 = report.widths[0]!.keys[0]!;
  assert.equal(keys0[keys0.length - 1], 16);
  assert.ok(keys0.slice(0, -2).every((w) => w <= 8), "older tokens are packed");
  const svg = readFileSync(`${prefix}.svg`, "utf8");
  assert.ok(svg.startsWith("<svg") && svg.includes("bits per value"));
});

test("kvmap refuses a cache that is not QAQ", async () => {
  let err = "";
  const code = await runCli(["kvmap", "--out", join(dir, "x"), "--kv", "fp16"], { out: () => {}, err: (t) => void (err += t) });
  assert.notEqual(code, 0);
  assert.ok(err.includes("qaq"));
});
