/**
 * Applies a width plan (WidthPlanner) to the layers, QAQ-METHOD.md section 4 step 3:
 *   - tokens leaving the fp16 tail are quantized for the first time from their fp16 rows (no backing read);
 *   - packed groups whose width changes are re-quantized from the backing tier (full precision, so the codes equal
 *     those of a fresh quantization at the new width), never from quantized data;
 *   - without a backing tier the plan only lowers widths, and a lowered group is re-quantized from its own decoded
 *     values (the irreversible case: the new error adds to the old one).
 * A re-quantized group releases its slot to its width's size class and takes one in the new class; nothing else moves.
 */
import type { BackingTier, KvPart } from "./BackingTier.js";
import type { QaqLayer } from "./QaqLayer.js";
import { readPackedGroup } from "./readPackedGroup.js";
import type { WidthPlanner } from "./WidthPlanner.js";

/** What one apply did, in groups (a group = one (token, KV head) or one token's layer vector, of keys or values). */
export interface ApplyCounts {
  /** groups quantized for the first time (left the fp16 tail) */
  quantized: number;
  /** packed groups whose width rose / fell (each re-quantized once) */
  raised: number;
  lowered: number;
}

export class Requantizer {
  /** [G] the source values of the group being (re-)quantized */
  private readonly source: Float32Array;

  constructor(
    private readonly backing: BackingTier | null,
    private readonly groupLength: number,
    private readonly sinks: number,
  ) {
    this.source = new Float32Array(groupLength);
  }

  /** Applies the widths the planner gives at tolerance scale λ to every group of every layer. */
  apply(layers: readonly QaqLayer[], planner: WidthPlanner, scale: number): ApplyCounts {
    const counts: ApplyCounts = { quantized: 0, raised: 0, lowered: 0 };
    for (let l = 0; l < layers.length; l++) {
      const layer = layers[l]!;
      const { packedEnd, quantizeEnd } = planner.range(l);
      for (let g = 0; g < layer.groupsPerToken; g++) {
        const widths = planner.allocateGroup(l, g, scale);
        for (const part of ["keys", "values"] as const) {
          const planned = part === "keys" ? widths.key : widths.value;
          this.changeWidths(l, layer, part, g, packedEnd, planned, counts);
          this.quantizeResident(layer, part, g, packedEnd, quantizeEnd, planned, counts);
        }
      }
      layer.releaseResident(quantizeEnd);
    }
    return counts;
  }

  /** Packed tokens [sinks, packedEnd): re-quantize group g where its planned width differs from its current one. */
  private changeWidths(l: number, layer: QaqLayer, part: KvPart, g: number, packedEnd: number, planned: Uint8Array, counts: ApplyCounts): void {
    const packed = layer[part];
    const gpt = layer.groupsPerToken;
    const bits = packed.ledger.views().bits;
    for (let t = this.sinks; t < packedEnd; t++) {
      const m = t * gpt + g;
      const target = planned[t]!;
      const current = bits[m]!;
      if (target === current) continue;
      if (this.backing !== null) {
        this.backing.read(l, part, t, gpt > 1 ? g * this.groupLength : 0, this.groupLength, this.source);
      } else if (target < current) {
        readPackedGroup(packed, m, this.source, 0);
      } else {
        continue; // no full-precision copy: a width never rises
      }
      packed.setGroup(m, this.source, 0, target);
      if (target > current) counts.raised++;
      else counts.lowered++;
    }
  }

  /** Tokens [packedEnd, quantizeEnd) of the fp16 tail: group g's first quantization at its planned width. */
  private quantizeResident(layer: QaqLayer, part: KvPart, g: number, packedEnd: number, quantizeEnd: number, planned: Uint8Array, counts: ApplyCounts): void {
    const packed = layer[part];
    const gpt = layer.groupsPerToken;
    for (let t = Math.max(packedEnd, this.sinks); t < quantizeEnd; t++) {
      layer.readResident(part, t, g, this.source);
      packed.setGroup(t * gpt + g, this.source, 0, planned[t]!);
      counts.quantized++;
    }
  }
}
