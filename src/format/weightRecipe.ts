/**
 * What `qaq convert --type` asks for: one tensor type for every matrix, or one of llama.cpp's mixes, and the type each
 * tensor is then stored in (fallbacks for rows that are not whole blocks, the mixes' per-tensor rules).
 *
 * Mixes (llama.cpp's LLAMA_FTYPE_MOSTLY_Q4_K_M / Q5_K_M rules, for the tensors a llama-family model has):
 *   q4_k_m: Q4_K everywhere, except Q6_K for output.weight and for attn_v / ffn_down in the layers that get more bits
 *           (the first and last eighth of the layers and every third layer between them: moreBitsLayer);
 *   q5_k_m: the same with Q5_K as the base.
 * Norms and other 1-D tensors stay F32. A matrix whose rows are not whole blocks of its type falls back to Q8_0 (a
 * K-quant type, when its rows are whole blocks of 32) or F16, as llama.cpp's quantizer falls back for such rows.
 */
import { GGML_TYPES } from "./gguf/ggmlTypes.js";
import type { TensorType } from "./tensor.js";

export type WeightRecipe = TensorType | "q4_k_m" | "q5_k_m";

/** The recipes `qaq convert --type` accepts (bf16 is read, not written by convert). */
export const CONVERT_RECIPES: readonly WeightRecipe[] = ["f32", "f16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k", "q4_k_m", "q5_k_m"];

/** llama.cpp's general.file_type codes (enum llama_ftype) for a model whose matrices follow `recipe`. */
export const LLAMA_FILE_TYPES: { readonly [R in WeightRecipe]: number } = {
  f32: 0,
  f16: 1,
  q4_0: 2,
  q8_0: 7,
  q4_k: 14, // MOSTLY_Q4_K_S
  q4_k_m: 15,
  q5_k: 16, // MOSTLY_Q5_K_S
  q5_k_m: 17,
  q6_k: 18,
  bf16: 32,
};

/** llama.cpp's use_more_bits: the first and last eighth of the layers and every third layer in between. */
export function moreBitsLayer(layer: number, nLayers: number): boolean {
  const eighth = Math.floor(nLayers / 8);
  return layer < eighth || layer >= Math.floor((7 * nLayers) / 8) || (layer - eighth) % 3 === 2;
}

/** The type `requested` falls back to for a matrix whose rows of shape[0] values are not whole blocks of it. */
export function storageTypeFor(requested: TensorType, shape: readonly number[]): TensorType {
  if (shape.length < 2) return "f32";
  const cols = shape[0]!;
  if (cols % GGML_TYPES[requested].blockSize === 0) return requested;
  return GGML_TYPES[requested].blockSize > 32 && cols % 32 === 0 ? "q8_0" : "f16";
}

/** The type tensor `name` (ggml-order `shape`, in a model of nLayers layers) is stored in under `recipe`. */
export function tensorTypeFor(recipe: WeightRecipe, name: string, shape: readonly number[], nLayers: number): TensorType {
  if (recipe !== "q4_k_m" && recipe !== "q5_k_m") return storageTypeFor(recipe, shape);
  const base: TensorType = recipe === "q4_k_m" ? "q4_k" : "q5_k";
  if (name === "output.weight") return storageTypeFor("q6_k", shape);
  const layer = /^blk\.(\d+)\.(attn_v|ffn_down)\.weight$/.exec(name);
  if (layer !== null && moreBitsLayer(Number(layer[1]), nLayers)) return storageTypeFor("q6_k", shape);
  return storageTypeFor(base, shape);
}
