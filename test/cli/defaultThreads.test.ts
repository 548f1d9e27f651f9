import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_MODEL, DEFAULT_THREADS, SMALL_MODEL_BYTES, defaultThreads } from "../../src/cli/defaults.js";

// The per-model default thread count (issue 12): one thread for a small model file, else up to DEFAULT_THREADS.

test("defaultThreads: 1 below SMALL_MODEL_BYTES (the bundled model), min(2, cores) from there on, 1 for a missing file", () => {
  const dir = mkdtempSync(join(tmpdir(), "qaq-threads-"));
  try {
    assert.equal(defaultThreads(DEFAULT_MODEL), 1, "stories260K is a small model");
    const small = join(dir, "small.gguf");
    writeFileSync(small, "");
    truncateSync(small, SMALL_MODEL_BYTES - 1); // sparse: no real bytes written
    assert.equal(defaultThreads(small), 1);
    const large = join(dir, "large.gguf");
    writeFileSync(large, "");
    truncateSync(large, SMALL_MODEL_BYTES);
    assert.equal(defaultThreads(large), Math.min(DEFAULT_THREADS, availableParallelism()));
    assert.equal(defaultThreads(join(dir, "missing.gguf")), 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
