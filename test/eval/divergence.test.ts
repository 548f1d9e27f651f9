import { test } from "node:test";
import assert from "node:assert/strict";
import { argmaxOf, DivergenceMeter, klDivergence, logSoftmaxInto } from "../../src/eval/divergence.js";

test("log-softmax of logits (0, ln 3) is (ln 1/4, ln 3/4)", () => {
  const out = new Float64Array(2);
  logSoftmaxInto([0, Math.log(3)], out);
  assert.ok(Math.abs(out[0]! - Math.log(0.25)) < 1e-12);
  assert.ok(Math.abs(out[1]! - Math.log(0.75)) < 1e-12);
});

test("KL(P‖Q) of two hand-made distributions", () => {
  // P = (0.5, 0.5), Q = softmax(0, ln 3) = (0.25, 0.75):
  // KL = 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75) = 0.5 ln 2 + 0.5 ln(2/3) = 0.5 ln(4/3) = 0.14384103622589045
  const p = Float32Array.from([Math.log(0.5), Math.log(0.5)]);
  const kl = klDivergence(p, Float32Array.from([0, Math.log(3)]), new Float64Array(2));
  assert.ok(Math.abs(kl - 0.14384103622589045) < 1e-6);
  assert.equal(klDivergence(p, Float32Array.from([7, 7]), new Float64Array(2)), 0);
});

test("the meter averages KL over positions and counts top-1 agreement", () => {
  const meter = new DivergenceMeter(2);
  const p = Float32Array.from([Math.log(0.5), Math.log(0.5)]);
  meter.add(p, Float32Array.from([0, Math.log(3)])); // KL 0.1438..., argmax differs (0 vs 1)
  // P = (0.9, 0.1), Q = softmax(2, 0) = (0.8808, 0.1192): KL = 0.9 ln(0.9/q1) + 0.1 ln(0.1/q2) = 0.0018450376515; same argmax
  meter.add(Float32Array.from([Math.log(0.9), Math.log(0.1)]), Float32Array.from([2, 0]));
  const s = meter.summary();
  assert.equal(s.positions, 2);
  assert.equal(s.top1, 0.5);
  assert.ok(Math.abs(s.kl.mean - 0.07284303693870739) < 1e-6);
  assert.equal(argmaxOf([1, 3, 3]), 1);
});
