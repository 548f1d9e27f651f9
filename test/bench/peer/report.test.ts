import { test } from "node:test";
import assert from "node:assert/strict";
import { SECTION_BEGIN, SECTION_END, SECTION_HEADING, pair, replacePeerSection } from "../../../src/bench/peer/report.js";

test("an empty or missing document gets a title and the section", () => {
  const doc = replacePeerSection("", "table 1");
  assert.equal(doc, `# Performance\n\n${SECTION_HEADING}\n\n${SECTION_BEGIN}\ntable 1\n${SECTION_END}\n`);
});

test("other sections are kept; the section is appended once and then replaced in place", () => {
  const other = "# Performance\n\n## Engine bench\n\nnumbers of someone else\n";
  const first = replacePeerSection(other, "run 1");
  assert.ok(first.startsWith(other));
  const withReading = `${first}\n### Reading\n\nhand-written text\n\n## Later section\n`;
  const second = replacePeerSection(withReading, "run 2");
  assert.ok(second.includes("numbers of someone else"));
  assert.ok(second.includes("hand-written text"));
  assert.ok(second.includes("## Later section"));
  assert.ok(second.includes(`${SECTION_BEGIN}\nrun 2\n${SECTION_END}`));
  assert.ok(!second.includes("run 1"));
  assert.equal(second.split(SECTION_HEADING).length, 2, "the heading appears once");
});

test("table cells: ours / peer (ratio), a dash for a missing side", () => {
  assert.equal(pair(5.5, 22), "5.50 / 22.0 (0.25x)");
  assert.equal(pair(1234.4, 617.2), "1234 / 617 (2.00x)");
  assert.equal(pair(3, undefined), "3.00 / -");
  assert.equal(pair(undefined, 3), "- / 3.00");
});
