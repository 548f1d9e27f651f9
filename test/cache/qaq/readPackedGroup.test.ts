import { test } from "node:test";
import assert from "node:assert/strict";
import { readPackedGroup } from "../../../src/cache/qaq/readPackedGroup.js";
import { PackedGroupStore } from "../../../src/cache/PackedGroupStore.js";
import { PackedPart } from "../../../src/cache/PackedPart.js";
import { WasmHeap } from "../../../src/kernels/WasmHeap.js";
import { f16ToF32, f32ToF16 } from "../../../src/quant/fp16.js";
import { Rng } from "../../../src/util/rng.js";

test("a decoded group: outliers exact (fp16), every other value within half a grid step of the original", () => {
  const rng = new Rng(81);
  const heap = WasmHeap.create();
  for (const [scope, ratio] of [["head", 0.1], ["layer", 0.05], ["head", 0]] as const) {
    const G = scope === "head" ? 16 : 32;
    const store = new PackedGroupStore(heap, G, ratio, "minmax", "test slots");
    const part = new PackedPart(store, scope, 2, 16, 64, "test part");
    part.appendEmpty(3);
    const gpt = part.groupsPerToken;
    for (let bits = 0; bits <= 8; bits++) {
      const values = Float32Array.from({ length: G }, () => f16ToF32(f32ToF16(rng.normal() * (rng.next() < 0.1 ? 9 : 1))));
      const m = (bits % 3) * gpt;
      part.setGroup(m, values, 0, bits);
      const decoded = new Float32Array(G + 2);
      readPackedGroup(part, m, decoded, 2);
      const step = f16ToF32(part.ledger.views().scale[m]!);
      const sorted = [...values].sort((a, b) => a - b);
      const k = store.nOut / 2;
      for (let i = 0; i < G; i++) {
        const isOutlier = values[i]! < sorted[k]! || values[i]! > sorted[G - 1 - k]!;
        if (isOutlier) assert.equal(decoded[2 + i], values[i], `${scope} ${bits} bits: outlier ${i}`);
        else assert.ok(Math.abs(decoded[2 + i]! - values[i]!) <= step / 2 + 1e-6, `${scope} ${bits} bits: value ${i}`);
      }
    }
    part.dispose();
    store.dispose();
  }
});
