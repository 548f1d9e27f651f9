import { ConfigError } from "../util/errors.js";

/**
 * The `rotate=` choice of the uniform, kivi and qaq specs: none, or the randomized Walsh-Hadamard rotation of keys
 * and values per KV head before quantization (RotatedCache.ts).
 */
export type Rotation = "none" | "hadamard";
export const ROTATIONS: readonly Rotation[] = ["none", "hadamard"];

/** Checked before a cache is built: the fast transform needs a power-of-two head size. */
export function checkRotation(policy: string, rotate: Rotation, headDim: number): void {
  if (rotate === "hadamard" && (headDim < 1 || (headDim & (headDim - 1)) !== 0)) {
    throw new ConfigError(`${policy}.rotate`, "a model whose head size is a power of two (Walsh-Hadamard transform)", `head size ${headDim}`);
  }
}
