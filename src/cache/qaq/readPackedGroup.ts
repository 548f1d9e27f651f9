/**
 * Decodes one packed group of a PackedPart back to floats (THE reconstruction x^ = zero + (c + 0.5)·scale with the
 * fp16 grid widened, outliers patched in): the source of a width fall when there is no backing tier (backing=none,
 * where the method is irreversible and a fall compounds one quantization error on another), and the
 * "dequantize then compute" oracle of the tests.
 *
 * Slot layout (packed-layout note, section 1; PackedGroupStore): [codes ceil(G·b/8) bytes][pad to 2]
 * [nOut × u16 positions][nOut × u16 fp16 values].
 */
import { f16ToF32 } from "../../quant/fp16.js";
import { dequantizeGroupPacked } from "../../quant/quantizeGroup.js";
import type { PackedPart } from "../PackedPart.js";

/** Group m of `part` (G = part.store.groupLength values) into out[outOffset .. outOffset + G). */
export function readPackedGroup(part: PackedPart, m: number, out: Float32Array, outOffset: number): void {
  const store = part.store;
  const ledger = part.ledger.views();
  const bits = ledger.bits[m]!;
  const slot = ledger.slot[m]!;
  const G = store.groupLength;
  const buffer = store.arena.heap.memory.buffer;
  const codeBytes = store.codeBytes(bits);
  const codes = codeBytes > 0 ? new Uint8Array(buffer, slot, codeBytes) : new Uint8Array(0);
  const nOut = slot === 0 ? 0 : store.nOut;
  const outliers = slot + store.outlierOffset(bits);
  const positions = nOut > 0 ? new Uint16Array(buffer, outliers, nOut) : new Uint16Array(0);
  const values = nOut > 0 ? new Uint16Array(buffer, outliers + 2 * nOut, nOut) : new Uint16Array(0);
  const scale = f16ToF32(ledger.scale[m]!);
  const zero = f16ToF32(ledger.zero[m]!);
  dequantizeGroupPacked(codes, 0, G, bits, scale, zero, positions, values, 0, nOut, out, outOffset);
}
