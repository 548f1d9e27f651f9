/**
 * Compatibility cases made from a trained model rather than random weights: student64 (../shared/models/student64,
 * the model every fidelity claim of this project uses; llama architecture, 4 layers of width 256, 4/2 heads of 64,
 * FFN 704) converted by `qaq convert` to F32 GGUF and then to each quantized recipe, exactly as a user would.
 * Trained weights make peaked, realistic distributions; FFN 704 is not whole super-blocks, so its down projection
 * falls back to Q8_0 in the K-quant files (llama.cpp's own quantizer does the same).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { convertGguf, convertLlama2c } from "../../format/convert.js";
import type { WeightRecipe } from "../../format/weightRecipe.js";
import { QUANTIZED_RECIPES } from "./compatCases.js";

export interface TrainedCase {
  readonly id: string;
  readonly weightType: WeightRecipe;
  /** the f32 case of the same model (for the quantization's own effect), when this one is quantized */
  readonly quantizedFrom?: string;
}

export const STUDENT64_FILES = {
  checkpoint: "../shared/models/student64/student64.bin",
  tokenizer: "../shared/models/stories260K/tok512.bin",
} as const;

export const TRAINED_CASES: readonly TrainedCase[] = [
  { id: "student64-f32", weightType: "f32" },
  ...QUANTIZED_RECIPES.map((recipe) => ({ id: `student64-${recipe}`, weightType: recipe, quantizedFrom: "student64-f32" })),
];

/** True when the student64 files are there (relative to the project root). */
export function trainedModelPresent(root: string): boolean {
  return existsSync(join(root, STUDENT64_FILES.checkpoint)) && existsSync(join(root, STUDENT64_FILES.tokenizer));
}

/**
 * Writes case `c` as `dir/<id>.gguf` and returns the path: the F32 conversion is made once per directory and each
 * quantized file is converted from it (`qaq convert student64.bin --tokenizer tok512.bin`, then `--type <recipe>`).
 */
export async function writeTrainedModel(root: string, dir: string, c: TrainedCase): Promise<string> {
  const f32Path = join(dir, "student64-f32.gguf");
  if (!existsSync(f32Path)) {
    await convertLlama2c(join(root, STUDENT64_FILES.checkpoint), join(root, STUDENT64_FILES.tokenizer), f32Path, "f32");
  }
  if (c.weightType === "f32") return f32Path;
  const path = join(dir, `${c.id}.gguf`);
  await convertGguf(f32Path, path, c.weightType);
  return path;
}
