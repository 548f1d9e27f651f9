/**
 * What the engine, the CLI and the evaluations need from a tokenizer, whatever the kind. Two implementations,
 * chosen by the GGUF key tokenizer.ggml.model (see loadTokenizer.ts):
 *   "llama" -> SentencePieceTokenizer (LLaMA 1/2, Mistral, TinyLlama; also llama2.c tok.bin files)
 *   "gpt2"  -> ByteLevelBpeTokenizer  (Llama 3.x, Qwen 2/2.5/3, SmolLM2, GPT-2)
 */

/** The two tokenizer families implemented. */
export type TokenizerKind = "sentencepiece" | "byte-level-bpe";

export interface EncodeOptions {
  /** Put BOS first. Default: the model's tokenizer.ggml.add_bos_token (llama.cpp's default when the key is absent). */
  readonly addBos?: boolean;
  /** Put EOS last. Default: the model's tokenizer.ggml.add_eos_token (false when absent). */
  readonly addEos?: boolean;
  /**
   * Turn the text of control tokens (e.g. "<|im_start|>", "<s>") into their ids, as llama.cpp's `parse_special` and
   * Hugging Face's default do; chat templates need it. Default false: such text is encoded as ordinary characters,
   * so text from a user cannot inject control tokens. User-defined tokens (e.g. Qwen's "<think>") are matched
   * either way, as in llama.cpp.
   */
  readonly parseSpecial?: boolean;
}

export interface DecodeOptions {
  /** Render control tokens as their text ("<|eot_id|>"); default false: they decode to nothing. */
  readonly special?: boolean;
}

/** Incremental decoding for generation: see TokenStreamDecoder. */
export interface TokenTextStream {
  /** Adds one token; returns the text it completed (possibly "", possibly several characters). */
  push(id: number): string;
  /** Ends the stream: an unfinished UTF-8 sequence comes out as U+FFFD, as decode() gives it. */
  flush(): string;
}

export interface Tokenizer {
  readonly kind: TokenizerKind;
  /** Number of token ids, equal to the model's embedding rows. */
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  /** Whether encode() adds BOS / EOS when the options do not say. */
  readonly addsBos: boolean;
  readonly addsEos: boolean;
  /** Every id that ends generation: EOS, end-of-turn and end-of-message tokens (sorted, no repeats). */
  readonly endOfGenerationIds: readonly number[];

  /** Token ids of `text`. */
  encode(text: string, options?: EncodeOptions): Int32Array;
  /** The text of a whole sequence; invalid or unfinished UTF-8 from byte tokens becomes U+FFFD. */
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  /** A decoder for tokens arriving one at a time; its pushes plus flush equal decode() of the same ids. */
  createStreamDecoder(options?: DecodeOptions): TokenTextStream;
  /** True when `id` ends generation (one of endOfGenerationIds). */
  isEndOfGeneration(id: number): boolean;
  /** The token's text as the vocabulary stores it (SentencePiece spaces as " ", byte-level BPE in its byte alphabet). */
  tokenText(id: number): string;
}

/** The sorted, de-duplicated end-of-generation ids of a vocabulary, keeping only ids inside it. */
export function endOfGenerationSet(ids: readonly (number | undefined)[], vocabSize: number): readonly number[] {
  const kept = ids.filter((id): id is number => id !== undefined && Number.isInteger(id) && id >= 0 && id < vocabSize);
  return [...new Set(kept)].sort((a, b) => a - b);
}
