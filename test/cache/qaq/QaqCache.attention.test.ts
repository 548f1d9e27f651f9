import { test, after } from "node:test";
import assert from "node:assert/strict";
import { QaqCache } from "../../../src/cache/qaq/QaqCache.js";
import { parseQaqParams } from "../../../src/cache/qaq/qaqSpec.js";
import { Compute } from "../../../src/kernels/Compute.js";
import type { CacheShape } from "../../../src/cache/KVCache.js";
import type { QaqLayer } from "../../../src/cache/qaq/QaqLayer.js";
import { packedHeadValuesRef } from "../../../src/kernels/reference/packedAttentionRef.js";
import { f16ToF32 } from "../../../src/quant/fp16.js";
import { Rng } from "../../../src/util/rng.js";
import { CacheDriver, spikyAttention } from "./qaqTestSupport.js";

const SHAPE: CacheShape = { nLayers: 2, nKvHeads: 2, headDim: 16, maxTokens: 96 };
const compute = await Compute.create(2);
after(() => compute.dispose());

/**
 * The oracle's K or V row of token t, head h: decoded from the ledger and slot bytes here (codes unpacked, THE
 * reconstruction zero + (c + 0.5)·scale, outliers written over their positions) for a packed token, the fp16 value
 * the driver appended for a sink or unquantized one.
 */
function oracleRow(layer: QaqLayer, part: "keys" | "values", reference: number[], t: number, h: number): Float64Array {
  const D = SHAPE.headDim;
  const kvDim = SHAPE.nKvHeads * D;
  const row = new Float64Array(D);
  if (t < layer.sinkCount || t >= layer.firstResident) {
    for (let d = 0; d < D; d++) row[d] = reference[t * kvDim + h * D + d]!;
    return row;
  }
  // the kernels' reference reads the packed bytes literally (block pointer + widths before it, slot layout)
  packedHeadValuesRef(new Uint8Array(compute.heap.memory.buffer), layer[part].layout(h), D, t, row);
  return row;
}

/**
 * The largest |scale·c| token t's value group can reach (c ≤ 255, any width; 0 for fp16 tokens): the weight of the
 * mix's int16 rounding of p·scale (lib/probabilityCodes.ts: step s = max p·scale/32767 per chunk of 256 tokens, error
 * ≤ s/2·c per token, so Σ_t max_t' (p_t'·reach_t') / 65534 bounds an output's error).
 */
function valueReach(layer: QaqLayer, t: number, h: number): number {
  if (t < layer.sinkCount || t >= layer.firstResident) return 0;
  return 255 * Math.abs(f16ToF32(layer.values.scaleBitsOf(t, layer.groupsPerToken > 1 ? h : 0)));
}

for (const spec of ["group=head,sinks=2,outliers=0.05", "group=layer,sinks=0,outliers=0.02,variant=code", "mode=prompt,sinks=1"]) {
  test(`${spec}: scores and mix equal dequantize-then-compute`, () => {
    const cache = new QaqCache(compute, SHAPE, parseQaqParams(spec));
    const driver = new CacheDriver(cache, compute, SHAPE, 31);
    const options = { attention: spikyAttention([{ t: 5, from: 9, to: 20, value: 0.5 }]), queryScale: () => 2 };
    driver.step(12, options);
    for (let i = 0; i < 12; i++) driver.step(1, options);
    const T = cache.storedTokens(0);
    const nq = 2;
    const D = SHAPE.headDim;
    const rng = new Rng(32);
    const heap = compute.heap;
    const qRegion = heap.alloc(nq * D * 4, "test q");
    const outRegion = heap.alloc(nq * T * 4, "test out");
    const probRegion = heap.alloc(nq * T * 4, "test p");
    const mixRegion = heap.alloc(nq * D * 4, "test mix");
    let packedTokens = 0;
    for (let l = 0; l < SHAPE.nLayers; l++) {
      const layer = cache.layers[l]!;
      packedTokens += layer.firstResident - layer.sinkCount;
      for (let h = 0; h < SHAPE.nKvHeads; h++) {
        const q = heap.f32(qRegion, 0, nq * D);
        for (let j = 0; j < q.length; j++) q[j] = rng.normal();
        const out = heap.f32(outRegion, 0, nq * T);
        cache.scores(l, h, q, { firstPos: T - 1, nTok: 1, nRep: nq }, out);
        const p = heap.f32(probRegion, 0, nq * T);
        for (let j = 0; j < p.length; j++) p[j] = rng.next();
        const mixed = heap.f32(mixRegion, 0, nq * D);
        cache.mix(l, h, p, { firstPos: T - 1, nTok: 1, nRep: nq }, mixed);
        const expectedMix = new Float64Array(nq * D);
        const mixMagnitude = new Float64Array(nq * D);
        for (let t = 0; t < T; t++) {
          const k = oracleRow(layer, "keys", driver.keys[l]!, t, h);
          const v = oracleRow(layer, "values", driver.values[l]!, t, h);
          for (let i = 0; i < nq; i++) {
            let dot = 0;
            let magnitude = 0;
            for (let d = 0; d < D; d++) {
              dot += q[i * D + d]! * k[d]!;
              magnitude += Math.abs(q[i * D + d]! * k[d]!);
              expectedMix[i * D + d]! += p[i * T + t]! * v[d]!;
              mixMagnitude[i * D + d]! += Math.abs(p[i * T + t]! * v[d]!);
            }
            // the packed kernel's int16 query path: error ≤ 1e-4·Σ|q·x^| (packedKernelExports.ts)
            assert.ok(Math.abs(out[i * T + t]! - dot) <= 1e-4 * magnitude + 1e-6, `layer ${l} head ${h} row ${i} token ${t}: ${out[i * T + t]} vs ${dot}`);
          }
        }
        for (let j = 0; j < nq * D; j++) {
          const i = Math.floor(j / D);
          let peak = 0; // T < 256: one chunk
          for (let t = 0; t < T; t++) peak = Math.max(peak, p[i * T + t]! * valueReach(layer, t, h));
          const rounding = (T * peak) / 65534;
          assert.ok(Math.abs(mixed[j]! - expectedMix[j]!) <= 1e-5 * mixMagnitude[j]! + rounding * 1.01 + 1e-6, `layer ${l} head ${h} mix ${j}: ${mixed[j]} vs ${expectedMix[j]}`);
        }
      }
    }
    assert.ok(packedTokens > 10, "the comparison covers packed tokens");
    for (const region of [qRegion, outRegion, probRegion, mixRegion]) heap.free(region);
    cache.dispose();
  });
}
