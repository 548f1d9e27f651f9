import { test } from "node:test";
import assert from "node:assert/strict";
import { closestWord, editDistance } from "../../src/util/closestWord.js";

test("edit distance counts insertions, deletions and substitutions", () => {
  assert.equal(editDistance("kitten", "sitting"), 3); // k->s, e->i, +g
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("abc", "abc"), 0);
  assert.equal(editDistance("flaw", "lawn"), 2); // -f, +n
});

test("did you mean: case-insensitive, nearest, nothing when far", () => {
  const keys = ["mode", "max", "kTol", "vTol", "min", "window"];
  assert.equal(closestWord("ktol", keys), "kTol");
  assert.equal(closestWord("windw", keys), "window");
  assert.equal(closestWord("budget", keys), undefined);
  assert.equal(closestWord("qaqq", ["fp32", "fp16", "uniform", "qaq"]), "qaq");
});
