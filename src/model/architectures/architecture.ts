/**
 * What distinguishes one GGUF architecture from another in this engine: one small description per architecture
 * (llama.ts, qwen2.ts, qwen3.ts, listed in registry.ts), resolved per model file into the ArchitectureOptions that
 * the forward pass reads. The forward pass never branches on an architecture's name, only on these options.
 *
 * Every supported architecture has the same block (ggml tensor names, TENSOR_NAMES in format/tensor.ts):
 *   token_embd, output_norm, output (absent: tied to token_embd), and per layer blk.N.{attn_norm, attn_q, attn_k,
 *   attn_v, attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down}.weight: pre-RMSNorm attention with GQA and a SwiGLU FFN.
 * The descriptions name what each adds to that block.
 */

/**
 * How a head's dimensions pair up for the rotary embedding:
 *   interleaved: pairs (x[2i], x[2i+1]) (llama.cpp's LLAMA_ROPE_TYPE_NORM; GGUF llama files are permuted to it)
 *   neox:        pairs (x[i], x[i + D/2]) (LLAMA_ROPE_TYPE_NEOX, as the Hugging Face weights of Qwen are stored)
 * Pair i rotates by pos·θ^(-2i/D) in both.
 */
export type RopeStyle = "interleaved" | "neox";

export type ArchitectureName = "llama" | "qwen2" | "qwen3";

export interface Architecture {
  /** general.architecture, also the prefix of its hyper-parameter keys (`qwen2.embedding_length`, ...). */
  readonly name: ArchitectureName;
  /** The model families that ship as this architecture (for messages and the README). */
  readonly models: string;
  readonly ropeStyle: RopeStyle;
  /**
   * Biases of the q, k, v projections (blk.N.attn_{q,k,v}.bias, [qDim] / [kvDim] f32), added after each product:
   * always present, never, or used when the file has them (llama.cpp loads them as optional for llama).
   */
  readonly qkvBias: "always" | "never" | "if-present";
  /**
   * Per-head RMSNorm of queries and keys before the rotary embedding (blk.N.attn_q_norm.weight and
   * attn_k_norm.weight, [headDim]), with the model's norm epsilon.
   */
  readonly qkNorm: boolean;
  /**
   * rope_freqs.weight ([headDim/2] f32) is read when present: pair i's frequency is divided by factor i (Llama 3.1+
   * "llama3" rope scaling, which llama.cpp's converter bakes into this tensor).
   */
  readonly ropeFreqFactors: boolean;
  /** Used when the file has no `<name>.rope.freq_base` / `<name>.attention.layer_norm_rms_epsilon`. */
  readonly defaultRopeTheta: number;
  readonly defaultNormEps: number;
}

/**
 * An architecture's options resolved for one model file: what the forward pass (model/llama.ts), the weight loader
 * and the rotary table read. Discriminated by nothing but values: a llama file with q/k/v biases runs exactly as
 * a qwen2 file does.
 */
export interface ArchitectureOptions {
  readonly name: ArchitectureName;
  readonly ropeStyle: RopeStyle;
  readonly qkvBias: boolean;
  readonly qkNorm: boolean;
  /**
   * Linear rope scaling (`<name>.rope.scaling.type = linear`): positions are multiplied by this (1 / the scaling
   * factor) before the angles are taken; 1 without scaling.
   */
  readonly ropePositionScale: number;
  /** rope_freqs.weight's factors ([headDim/2]): pair i's angle is divided by factor i. Undefined: all 1. */
  readonly ropeFreqFactors: Float32Array | undefined;
}
