/**
 * The round-trip error of quantized tensors, measured while converting: per stored type, the relative RMS error
 * sqrt(Σ(x^ - x)² / Σx²) and the worst error as a fraction of its per-value bound. Bounds, from the formats:
 *   K-quants: half the stored step of the value's sub-block (d·sc_j, |d·sc_s| for Q6_K; kQuantize.ts derives why the
 *             codes never clip), so the fraction is <= 1 for every value the quantizer writes;
 *   Q8_0:     d/2 + 127·|fp16(d) - d| per value (the stored scale's rounding moves every code's value);
 *   other types: not bounded here (fraction reported as 0).
 * A small float32 allowance (2^-20 of the value's magnitude) covers the products of the dequantization.
 */
import { GGML_TYPES } from "./gguf/ggmlTypes.js";
import { kQuantStep } from "./gguf/kQuants.js";
import type { TensorType } from "./tensor.js";

export interface TypeError {
  readonly type: TensorType;
  readonly tensors: number;
  readonly values: number;
  /** sqrt(Σ err² / Σ x²) */
  readonly relativeRms: number;
  /** max over values of |err| / bound (<= 1 when every value is within its bound) */
  readonly worstOfBound: number;
}

export class RoundTripErrors {
  private readonly byType = new Map<TensorType, { tensors: number; values: number; err2: number; x2: number; worst: number }>();

  /** Adds a tensor's source values and stored bytes (a tensor may come in chunks: `newTensor` on its first). */
  add(type: TensorType, values: Float32Array, stored: Uint8Array, newTensor = true): void {
    const decoded = new Float32Array(values.length);
    GGML_TYPES[type].dequantizeRow(stored, values.length, decoded);
    const entry = this.byType.get(type) ?? { tensors: 0, values: 0, err2: 0, x2: 0, worst: 0 };
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      const err = Math.abs(decoded[i]! - x);
      entry.err2 += err * err;
      entry.x2 += x * x;
      const bound = boundOf(type, stored, i);
      if (bound !== null) entry.worst = Math.max(entry.worst, err / (bound + 2 ** -20 * Math.abs(x) + Number.MIN_VALUE));
    }
    if (newTensor) entry.tensors++;
    entry.values += values.length;
    this.byType.set(type, entry);
  }

  summary(): TypeError[] {
    return [...this.byType].map(([type, e]) => ({
      type,
      tensors: e.tensors,
      values: e.values,
      relativeRms: e.x2 > 0 ? Math.sqrt(e.err2 / e.x2) : 0,
      worstOfBound: e.worst,
    }));
  }
}

function boundOf(type: TensorType, stored: Uint8Array, i: number): number | null {
  if (type === "q4_k" || type === "q5_k" || type === "q6_k") return kQuantStep(type, stored, i) / 2;
  return null;
}
