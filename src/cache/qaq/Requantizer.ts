/**
 * Applies a width plan (WidthPlanner) to the layers, QAQ-METHOD.md section 4 step 3:
 *   - tokens leaving the fp16 tail are quantized for the first time from their fp16 rows (no backing read);
 *   - packed groups whose width changes are re-quantized from the backing tier (full precision, so the codes equal
 *     those of a fresh quantization at the new width), never from quantized data;
 *   - without a backing tier the plan only lowers widths, and a lowered group is re-quantized from its own decoded
 *     values (the irreversible case: the new error adds to the old one).
 * All writes of one sequence (layer, part, group index) go in one call: each 256-group block they touch is rebuilt
 * once, at its new exact size (PackedSequence); nothing outside those blocks moves.
 */
import type { GroupWrite } from "../PackedSequence.js";
import type { BackingTier, KvPart } from "./BackingTier.js";
import type { QaqLayer } from "./QaqLayer.js";
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
  /** [writes · G] the source values of the groups being (re-)quantized in one sequence (working memory) */
  private sources = new Float32Array(0);
  /** [packed tokens] current widths of one sequence, read in one pass (working memory) */
  private current = new Uint8Array(0);
  /** [changes] tokens of one sequence to (re-)quantize (working memory) */
  private tokens = new Int32Array(0);

  constructor(
    private readonly backing: BackingTier | null,
    private readonly groupLength: number,
    private readonly sinks: number,
  ) {}

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
          this.applySequence(l, layer, part, g, packedEnd, quantizeEnd, planned, counts);
        }
      }
      layer.releaseResident(quantizeEnd);
    }
    return counts;
  }

  /**
   * Sequence (layer, part, g): packed tokens [sinks, packedEnd) whose planned width differs are re-quantized, tokens
   * [packedEnd, quantizeEnd) of the fp16 tail quantized for the first time.
   */
  private applySequence(l: number, layer: QaqLayer, part: KvPart, g: number, packedEnd: number, quantizeEnd: number, planned: Uint8Array, counts: ApplyCounts): void {
    const packed = layer[part];
    const G = this.groupLength;
    const first = this.sinks;
    const packedCount = Math.max(0, packedEnd - first);
    if (this.current.length < packedCount) this.current = new Uint8Array(Math.max(packedCount, 2 * this.current.length));
    const current = this.current;
    packed.readWidths(g, first, first + packedCount, current);
    const newCount = Math.max(0, quantizeEnd - Math.max(packedEnd, first));
    if (this.tokens.length < packedCount + newCount) this.tokens = new Int32Array(Math.max(packedCount + newCount, 2 * this.tokens.length));
    const tokens = this.tokens;
    let count = 0;
    const mayRise = this.backing !== null; // no full-precision copy: widths never rise
    for (let t = first; t < packedEnd; t++) {
      const target = planned[t]!;
      const now = current[t - first]!;
      if (target !== now && (mayRise || target < now)) tokens[count++] = t;
    }
    const firstNew = count;
    for (let t = Math.max(packedEnd, first); t < quantizeEnd; t++) tokens[count++] = t;
    if (count === 0) return;
    if (this.sources.length < count * G) this.sources = new Float32Array(Math.max(count * G, 2 * this.sources.length));
    const writes: GroupWrite[] = [];
    for (let k = 0; k < count; k++) {
      const t = tokens[k]!;
      const offset = k * G;
      const target = planned[t]!;
      if (k >= firstNew) {
        layer.readResident(part, t, g, this.sources.subarray(offset, offset + G));
        counts.quantized++;
      } else {
        if (this.backing !== null) this.backing.read(l, part, t, layer.groupsPerToken > 1 ? g * G : 0, G, this.sources.subarray(offset, offset + G));
        else packed.readGroup(t, g, this.sources, offset);
        if (target > current[t - first]!) counts.raised++;
        else counts.lowered++;
      }
      writes.push({ index: t, bits: target, values: this.sources, offset });
    }
    packed.setGroups(g, writes);
  }
}
