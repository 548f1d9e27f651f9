import { test } from "node:test";
import assert from "node:assert/strict";
import { StopStrings } from "../../src/server/StopStrings.js";

/** Feeds pieces one by one and returns what was released, plus whether a stop was seen. */
function run(stops: string[], pieces: string[]): { out: string[]; done: boolean } {
  const s = new StopStrings(stops);
  const out = pieces.map((p) => s.push(p));
  out.push(s.flush());
  return { out, done: s.done };
}

test("without stop strings every piece is released as it comes", () => {
  assert.deepEqual(run([], ["a", "b"]), { out: ["a", "b", ""], done: false });
});

test("a stop string split across pieces is never partly released; the text before it is", () => {
  // "The end" arrives as "The e" + "nd": "e" is held (it could start "end"), then dropped with the stop
  assert.deepEqual(run(["end"], ["The e", "nd of it"]), { out: ["The ", "", ""], done: true });
});

test("held text that turns out not to be a stop string is released, and at the end by flush", () => {
  assert.deepEqual(run(["end"], ["The e", "gg"]), { out: ["The ", "egg", ""], done: false });
  assert.deepEqual(run(["end"], ["the e"]), { out: ["the ", "e"], done: false });
});

test("the earliest of several stop strings wins; nothing is released after a stop", () => {
  assert.deepEqual(run(["xyz", "b"], ["aab", "xyz", "more"]), { out: ["aa", "", "", ""], done: true });
});
