import type { WasmHeap } from "../kernels/WasmHeap.js";
import { packCodes, packedByteLength } from "../quant/bitpack.js";
import { checkCodeBits } from "../quant/checkArgs.js";
import { createF16Grid, quantizeF16Grid, type F16Grid } from "../quant/f16Grid.js";
import { markOutliers } from "../quant/outliers.js";
import { PooledOutlierPicker, pooledOutlierCount } from "../quant/pooledOutliers.js";
import type { UniformMethod } from "../quant/uniform.js";

/**
 * The slot format of every packed group of one kind (e.g. the keys of all layers of a cache) and the writer that
 * quantizes a group into a slot (contract: src/kernels/packedKernelExports.ts, section 1).
 *
 * Slot of a group of G values at width b:
 *   [codes:     ceil(G·b/8) bytes, LSB-first bit stream (quant/bitpack.ts)]
 *   [values:    nOut × u16, fp16 bits of the exact values]
 *   [positions: nOut × u8 (u16 for G > 256), index within the group, ascending]
 * nOut = round(α·G) pooled outliers (quant/pooledOutliers.ts), the same for every group, so the slot size depends only
 * on b; no padding (the kernels load f16 unaligned). An empty group (EMPTY_WIDTH: a token held in fp16 elsewhere)
 * has no slot. Codes are chosen on an fp16 grid (quant/f16Grid.ts), outliers excluded from it.
 */
export const EMPTY_WIDTH = 15;

export class PackedGroupStore {
  /** outliers per group */
  readonly nOut: number;
  /** bytes per outlier position: 1 up to 256 values per group, else 2 */
  readonly positionBytes: number;
  private readonly codes: Uint8Array;
  private readonly excluded: Uint8Array;
  private readonly positions: Uint8Array | Uint16Array;
  private readonly valueBits: Uint16Array;
  private readonly picker: PooledOutlierPicker;
  private readonly grid: F16Grid = createF16Grid();

  constructor(
    readonly heap: WasmHeap,
    readonly groupLength: number,
    readonly outlierRatio: number,
    readonly method: UniformMethod,
    what: string,
  ) {
    if (groupLength > 65536) throw new RangeError(`${what}: groups of ${groupLength} values exceed u16 outlier positions`);
    this.nOut = pooledOutlierCount(groupLength, outlierRatio);
    this.positionBytes = groupLength <= 256 ? 1 : 2;
    this.codes = new Uint8Array(groupLength);
    this.excluded = new Uint8Array(groupLength);
    this.positions = this.positionBytes === 1 ? new Uint8Array(this.nOut) : new Uint16Array(this.nOut);
    this.valueBits = new Uint16Array(this.nOut);
    this.picker = new PooledOutlierPicker(this.nOut);
  }

  codeBytes(bits: number): number {
    return bits === EMPTY_WIDTH ? 0 : packedByteLength(this.groupLength, bits);
  }

  /** Bytes of the outliers of one (non-empty) group: values and positions. */
  get outlierBytes(): number {
    return this.nOut * (2 + this.positionBytes);
  }

  slotBytes(bits: number): number {
    return bits === EMPTY_WIDTH ? 0 : this.codeBytes(bits) + this.outlierBytes;
  }

  /**
   * Quantizes values[offset .. offset+G) at `bits` into the slot at `ptr` (slotBytes(bits) bytes); the grid goes to
   * `gridOut`.
   */
  writeAt(ptr: number, values: Float32Array, offset: number, bits: number, gridOut: F16Grid): void {
    checkCodeBits(bits);
    const G = this.groupLength;
    const buffer = this.heap.memory.buffer;
    let excluded: Uint8Array | null = null;
    const codeBytes = this.codeBytes(bits);
    if (this.nOut > 0) {
      this.picker.select(values, offset, G, this.positions, this.valueBits);
      markOutliers(this.positions, 0, this.nOut, G, this.excluded);
      excluded = this.excluded;
      const bytes = new Uint8Array(buffer, ptr + codeBytes, this.outlierBytes);
      bytes.set(new Uint8Array(this.valueBits.buffer, 0, 2 * this.nOut), 0);
      bytes.set(new Uint8Array(this.positions.buffer, 0, this.nOut * this.positionBytes), 2 * this.nOut);
    }
    quantizeF16Grid(values, offset, G, bits, this.method, excluded, this.codes, this.grid);
    if (codeBytes > 0) packCodes(this.codes, G, bits, new Uint8Array(buffer, ptr, codeBytes), 0);
    Object.assign(gridOut, this.grid);
  }
}
