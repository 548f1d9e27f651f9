import { test } from "node:test";
import assert from "node:assert/strict";
import { formatKvSpec, parseKvSpec, type KVCacheConfig } from "../../src/cache/spec.js";
import { assertConfigError } from "../quant/assertConfigError.js";

test("every policy parses to its config, with defaults filled in", () => {
  const cases: Array<[string, KVCacheConfig]> = [
    ["fp32", { kind: "fp32" }],
    [" fp16 ", { kind: "fp16" }],
    ["uniform:k=4,v=2", { kind: "uniform", keyBits: 4, valueBits: 2, group: "head", outlierRatio: 0, sinkTokens: 0, method: "minmax", rotate: "none", keys: "token" }],
    ["uniform:bits=8", { kind: "uniform", keyBits: 8, valueBits: 8, group: "head", outlierRatio: 0, sinkTokens: 0, method: "minmax", rotate: "none", keys: "token" }],
    [
      "uniform:k=16,v=0,group=layer,outliers=0.01,sinks=4,method=meanclip",
      { kind: "uniform", keyBits: 16, valueBits: 0, group: "layer", outlierRatio: 0.01, sinkTokens: 4, method: "meanClip", rotate: "none", keys: "token" },
    ],
    ["kivi:bits=2", { kind: "kivi", bits: 2, groupSize: 32, residualLength: 128, rotate: "none" }],
    ["kivi:bits=4,group=32,residual=0", { kind: "kivi", bits: 4, groupSize: 32, residualLength: 0, rotate: "none" }],
    [
      "uniform:bits=2,rotate=hadamard",
      { kind: "uniform", keyBits: 2, valueBits: 2, group: "head", outlierRatio: 0, sinkTokens: 0, method: "minmax", rotate: "hadamard", keys: "token" },
    ],
    ["kivi:bits=2,rotate=hadamard", { kind: "kivi", bits: 2, groupSize: 32, residualLength: 128, rotate: "hadamard" }],
    ["blockq:q8_0", { kind: "blockq", format: "q8_0" }],
    ["blockq:q4_0", { kind: "blockq", format: "q4_0" }],
    ["h2o:budget=256", { kind: "h2o", budget: 256, recent: 128 }],
    ["h2o:budget=9,recent=0", { kind: "h2o", budget: 9, recent: 0 }],
    ["streaming:budget=256", { kind: "streaming", budget: 256, sinkTokens: 4 }],
    ["streaming:budget=4,sinks=4", { kind: "streaming", budget: 4, sinkTokens: 4 }],
  ];
  for (const [text, config] of cases) assert.deepEqual(parseKvSpec(text), config, text);
});

test("formatKvSpec round-trips and is compact", () => {
  const texts = [
    "fp32", "fp16", "uniform:bits=4", "uniform:k=4,v=2", "uniform:k=16,v=3,group=layer,outliers=0.02,sinks=4,method=meanclip",
    "uniform:bits=0,outliers=1e-3", "kivi:bits=2", "kivi:bits=4,residual=64", "blockq:q4_0", "h2o:budget=100",
    "h2o:budget=100,recent=10", "streaming:budget=64", "streaming:budget=64,sinks=0", "uniform:bits=3,rotate=hadamard",
    "kivi:bits=4,residual=64,rotate=hadamard", "qaq:rotate=hadamard", "qaq:rotate=hadamard,outliers=0.01", "qaq:rotate=none",
    "uniform:bits=3,keys=channel", "qaq:keys=channel,rotate=hadamard",
  ];
  for (const text of texts) {
    const config = parseKvSpec(text);
    assert.deepEqual(parseKvSpec(formatKvSpec(config)), config, text);
  }
  assert.equal(formatKvSpec(parseKvSpec("uniform:k=4,v=4,group=head,sinks=0")), "uniform:bits=4");
  assert.equal(formatKvSpec(parseKvSpec("kivi:bits=2,group=32,residual=128")), "kivi:bits=2");
  // rotation: outliers default to none for qaq (1% without rotation), so a written 1% stays in the compact form
  assert.equal(formatKvSpec(parseKvSpec("qaq:rotate=hadamard,outliers=0")), "qaq:rotate=hadamard");
  assert.equal(formatKvSpec(parseKvSpec("qaq:rotate=hadamard,outliers=0.01")), "qaq:outliers=0.01,rotate=hadamard");
  assert.equal(formatKvSpec(parseKvSpec("qaq:rotate=none")), "qaq");
});

test("invalid specs fail with a ConfigError naming the field and what is allowed", () => {
  assertConfigError(() => parseKvSpec("qaqq:bits=2"), "kv", "one of fp32, fp16, uniform, kivi, blockq, h2o, streaming");
  assertConfigError(() => parseKvSpec("uniform:k=9,v=2"), "uniform.k", "0..8, or 16");
  assertConfigError(() => parseKvSpec("uniform:k=4,v=12"), "uniform.v", "0..8, or 16");
  assertConfigError(() => parseKvSpec("uniform:k=4"), "uniform.v", "required");
  assertConfigError(() => parseKvSpec("uniform:bits=4,k=2"), "uniform.bits", "not both");
  assertConfigError(() => parseKvSpec("uniform:k=4,v=2,size=3"), "uniform.size", "a known key");
  assertConfigError(() => parseKvSpec("uniform:k=4,k=2,v=2"), "uniform.k", "at most once");
  assertConfigError(() => parseKvSpec("uniform:k=4.5,v=2"), "uniform.k", "0..8, or 16");
  assertConfigError(() => parseKvSpec("uniform:k=4,v=2,outliers=1.5"), "uniform.outliers", "from 0 to 1");
  assertConfigError(() => parseKvSpec("uniform:k=4,v=2,outliers=abc"), "uniform.outliers", "from 0 to 1");
  assertConfigError(() => parseKvSpec("uniform:k=4,v=2,group=token"), "uniform.group", "head, layer");
  assertConfigError(() => parseKvSpec("uniform:k=4,v=2,method=round"), "uniform.method", "minmax, meanclip");
  assertConfigError(() => parseKvSpec("uniform:k=4,,v=2"), "uniform", "none empty");
  assertConfigError(() => parseKvSpec("uniform:k=,v=2"), "uniform.k", "both parts");
  assertConfigError(() => parseKvSpec("kivi:bits=3"), "kivi.bits", "2, 4");
  assertConfigError(() => parseKvSpec("kivi:bits=2,group=64"), "kivi.group", "from 32 to 32");
  assertConfigError(() => parseKvSpec("kivi:bits=2,residual=-1"), "kivi.residual", "an integer");
  assertConfigError(() => parseKvSpec("blockq:q5_0"), "blockq", "blockq:q8_0 or blockq:q4_0");
  assertConfigError(() => parseKvSpec("blockq"), "blockq", "blockq:q8_0");
  assertConfigError(() => parseKvSpec("h2o:recent=3"), "h2o.budget", "required");
  assertConfigError(() => parseKvSpec("h2o:budget=0"), "h2o.budget", "from 1");
  assertConfigError(() => parseKvSpec("h2o:budget=10,recent=11"), "h2o.recent", "from 0 to 10");
  assertConfigError(() => parseKvSpec("streaming:budget=3"), "streaming.budget", "at least sinks (4)");
  assertConfigError(() => parseKvSpec("streaming:budget=3x"), "streaming.budget", "an integer");
  assertConfigError(() => parseKvSpec("fp16:x=1"), "fp16.x", "no parameters");
  assertConfigError(() => parseKvSpec("fp16:q8"), "fp16", "key=value");
  assertConfigError(() => parseKvSpec("uniform:bits=2,rotate=walsh"), "uniform.rotate", "none, hadamard");
  assertConfigError(() => parseKvSpec("kivi:bits=2,rotate=yes"), "kivi.rotate", "none, hadamard");
  assertConfigError(() => parseKvSpec("uniform:bits=2,keys=block"), "uniform.keys", "token, channel");
  assertConfigError(() => parseKvSpec("kivi:bits=2,keys=channel"), "kivi.keys", "a known key");
  assertConfigError(() => parseKvSpec("qaq:rotate=random"), "qaq.rotate", '"none" or "hadamard"');
});
