import { test } from "node:test";
import assert from "node:assert/strict";
import { characterLength, choiceScore, predictChoice, type ScoredChoice } from "../../src/eval/choice/choiceScoring.js";
import { meanWithError, proportionWithError, RunningMean } from "../../src/eval/stats.js";

/*
 * Hand-made log-likelihoods (natural log) for three choices; the expected picks were worked out by hand:
 *   choice  tokens               sum    chars  sum/chars  mean/token
 *   0       -1, -1, -1, -1       -4.0   20     -0.200     -1.00
 *   1       -3.5                 -3.5    5     -0.700     -3.50
 *   2       -0.5, -0.5, -3.0     -4.0   40     -0.100     -1.333
 * acc -> 1 (largest sum), acc_norm -> 2 (largest sum per character), acc_mean -> 0 (largest per-token mean).
 */
const choices: ScoredChoice[] = [
  { logliks: [-1, -1, -1, -1], chars: 20 },
  { logliks: [-3.5], chars: 5 },
  { logliks: [-0.5, -0.5, -3.0], chars: 40 },
];

test("acc, acc_norm and acc_mean pick by sum, sum per character and mean per token", () => {
  assert.equal(predictChoice(choices, "acc"), 1);
  assert.equal(predictChoice(choices, "acc_norm"), 2);
  assert.equal(predictChoice(choices, "acc_mean"), 0);
  assert.equal(choiceScore(choices[2]!, "acc_norm"), -0.1);
  assert.ok(Math.abs(choiceScore(choices[2]!, "acc_mean") - -4 / 3) < 1e-12);
});

test("ties go to the first choice, as numpy's argmax", () => {
  const tied: ScoredChoice[] = [
    { logliks: [-2], chars: 4 },
    { logliks: [-1, -1], chars: 4 },
  ];
  assert.equal(predictChoice(tied, "acc"), 0);
  assert.equal(predictChoice(tied, "acc_norm"), 0);
  assert.equal(predictChoice(tied, "acc_mean"), 1);
});

test("acc_norm counts characters as Python does (code points, not UTF-16 units)", () => {
  assert.equal(characterLength("héllo"), 5);
  assert.equal(characterLength("a😀b"), 3);
  assert.equal("a😀b".length, 4);
});

test("accuracy standard error is sqrt(p(1-p)/N)", () => {
  // 3 of 4 right: p = 0.75, sqrt(0.75 * 0.25 / 4) = sqrt(0.046875) = 0.21650635...
  const p = proportionWithError(3, 4);
  assert.equal(p.mean, 0.75);
  assert.ok(Math.abs(p.stderr - 0.21650635094610965) < 1e-12);
  assert.ok(Number.isNaN(proportionWithError(0, 0).mean));
});

test("mean standard error is the sample deviation over sqrt(n); the running form agrees", () => {
  // values 1, 2, 3, 6: mean 3, squared deviations 4+1+0+9 = 14, sample variance 14/3, stderr sqrt(14/3/4) = 1.0801234
  const values = [1, 2, 3, 6];
  const m = meanWithError(values);
  assert.equal(m.mean, 3);
  assert.ok(Math.abs(m.stderr - 1.0801234497346435) < 1e-12);
  const running = new RunningMean();
  for (const v of values) running.add(v);
  assert.ok(Math.abs(running.result().mean - 3) < 1e-12);
  assert.ok(Math.abs(running.result().stderr - m.stderr) < 1e-12);
});
