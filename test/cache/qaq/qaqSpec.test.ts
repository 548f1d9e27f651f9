import { test } from "node:test";
import assert from "node:assert/strict";
import { formatQaqParams, parseQaqParams, QAQ_DEFAULTS } from "../../../src/cache/qaq/qaqSpec.js";
import { formatKvSpec, parseKvSpec } from "../../../src/cache/spec.js";
import { assertConfigError } from "../../quant/assertConfigError.js";

test("empty parameters give the defaults (stream mode with a memory backing tier)", () => {
  assert.deepEqual(parseQaqParams(""), { ...QAQ_DEFAULTS, backing: "memory" });
  assert.equal(parseQaqParams("mode=prompt").backing, "none");
});

test("the compact form leaves defaults out", () => {
  assert.equal(formatQaqParams(parseQaqParams("")), "");
  assert.equal(formatQaqParams(parseQaqParams("mode=prompt,window=5,vTol=0.1")), "vTol=0.1,mode=prompt");
  assert.equal(formatQaqParams(parseQaqParams("backing=none")), "backing=none");
});

test("every key parses, and the formatted form parses back to the same config", () => {
  const config = parseQaqParams(
    "kTol=0.01, vTol=0.2,min=2,max=6,window=3,outliers=0,group=layer,sinks=4,backing=file,mode=stream,variant=code,quantile=0.95,budget=32MB",
  );
  assert.deepEqual(config, {
    kind: "qaq", keyTolerance: 0.01, valueTolerance: 0.2, minBits: 2, maxBits: 6, window: 3, outlierRatio: 0,
    group: "layer", sinkTokens: 4, backing: "file", mode: "stream", variant: "code", queryQuantile: 0.95,
    budget: { kind: "bytes", bytes: 32e6 }, rotate: "none", keys: "token",
  });
  assert.deepEqual(parseQaqParams(formatQaqParams(config)), config);
  const ratio = parseQaqParams("ratio=8,backing=none");
  assert.deepEqual(ratio.budget, { kind: "ratio", ratio: 8 });
  assert.deepEqual(parseQaqParams(formatQaqParams(ratio)), ratio);
});

test("rotate=hadamard makes outliers default to none; an explicit ratio is kept", () => {
  assert.equal(parseQaqParams("").outlierRatio, 0.01);
  assert.equal(parseQaqParams("rotate=hadamard").outlierRatio, 0);
  assert.equal(parseQaqParams("rotate=hadamard,outliers=0.02").outlierRatio, 0.02);
  assert.equal(parseQaqParams("rotate=hadamard").rotate, "hadamard");
});

test("registered in the --kv syntax: qaq alone, with parameters, round trip through formatKvSpec", () => {
  assert.deepEqual(parseKvSpec("qaq"), parseQaqParams(""));
  const config = parseKvSpec(" qaq:vTol=0.1,mode=prompt,ratio=3 ");
  assert.deepEqual(config, parseQaqParams("vTol=0.1,mode=prompt,ratio=3"));
  assert.equal(formatKvSpec(config), "qaq:vTol=0.1,mode=prompt,ratio=3");
  assert.deepEqual(parseKvSpec(formatKvSpec(config)), config);
  assertConfigError(() => parseKvSpec("qaq:tolerance=1"), "qaq.tolerance", "vTol");
});

test("sizes: plain bytes, decimal and binary units", () => {
  assert.deepEqual(parseQaqParams("budget=1000").budget, { kind: "bytes", bytes: 1000 });
  assert.deepEqual(parseQaqParams("budget=1.5KB").budget, { kind: "bytes", bytes: 1500 });
  assert.deepEqual(parseQaqParams("budget=2MiB").budget, { kind: "bytes", bytes: 2 * 1024 * 1024 });
  assert.deepEqual(parseQaqParams("budget=1GB").budget, { kind: "bytes", bytes: 1e9 });
});

test("bad specs fail with a ConfigError naming the key", () => {
  assertConfigError(() => parseQaqParams("kTol=0"), "qaq.kTol", "> 0");
  assertConfigError(() => parseQaqParams("vTol=abc"), "qaq.vTol", "> 0");
  assertConfigError(() => parseQaqParams("max=9"), "qaq.max", "1..8");
  assertConfigError(() => parseQaqParams("min=5,max=4"), "qaq.min", "0..4");
  assertConfigError(() => parseQaqParams("min=1.5"), "qaq.min", "integer");
  assertConfigError(() => parseQaqParams("window=0"), "qaq.window", "1..64");
  assertConfigError(() => parseQaqParams("outliers=0.6"), "qaq.outliers", "[0, 0.5]");
  assertConfigError(() => parseQaqParams("group=token"), "qaq.group", '"head" or "layer"');
  assertConfigError(() => parseQaqParams("sinks=-1"), "qaq.sinks", "integer");
  assertConfigError(() => parseQaqParams("backing=disk"), "qaq.backing", '"memory" or "file" or "none"');
  assertConfigError(() => parseQaqParams("mode=prompt,backing=file"), "qaq.backing", '"none"');
  assertConfigError(() => parseQaqParams("variant=fast"), "qaq.variant", '"paper" or "code"');
  assertConfigError(() => parseQaqParams("quantile=0"), "qaq.quantile", "(0, 1]");
  assertConfigError(() => parseQaqParams("budget=32XB"), "qaq.budget", "MiB");
  assertConfigError(() => parseQaqParams("budget=0"), "qaq.budget", "≥ 1 byte");
  assertConfigError(() => parseQaqParams("ratio=0.5"), "qaq.ratio", "≥ 1");
  assertConfigError(() => parseQaqParams("budget=1MB,ratio=4"), "qaq.budget", "not both");
  assertConfigError(() => parseQaqParams("bits=4"), "qaq.bits", "kTol");
  assertConfigError(() => parseQaqParams("window"), "qaq", "key=value");
  assertConfigError(() => parseQaqParams("kTol="), "qaq.kTol", "both parts");
  assertConfigError(() => parseQaqParams("window=3,window=4"), "qaq.window", "once");
  assertConfigError(() => parseQaqParams("window=3,,max=4"), "qaq", "none empty");
});
