/**
 * The byte-level BPE tokenizer of GPT-2-style vocabularies (GGUF tokenizer.ggml.model = "gpt2"): Llama 3.x,
 * Qwen 2/2.5/3, SmolLM2, GPT-2. Encoding, as Hugging Face `tokenizers` and llama.cpp do it:
 *   1. special tokens are cut out of the text (SpecialTokenSplitter: user-defined always, control on request);
 *   2. each remaining stretch is normalised when the model's tokenizer does (Qwen: NFC) and cut into words by the
 *      pre-tokenizer named in tokenizer.ggml.pre (PreTokenizer.ts);
 *   3. each word's UTF-8 bytes are merged by rank (BpeMerger), or taken whole when Llama 3's ignore_merges applies.
 * Decoding joins every token's bytes (BpeTokenBytes) and reads them as UTF-8.
 */
import { BpeMerger } from "./BpeMerger.js";
import { BpeTokenBytes } from "./BpeTokenBytes.js";
import type { BpeVocabulary } from "./BpeVocabulary.js";
import { decodeTokens } from "./decodeTokens.js";
import type { PreTokenizer } from "./PreTokenizer.js";
import { SpecialTokenSplitter, type SpecialToken } from "./SpecialTokenSplitter.js";
import { TokenStreamDecoder } from "./TokenStreamDecoder.js";
import type { DecodeOptions, EncodeOptions, Tokenizer, TokenTextStream } from "./Tokenizer.js";
import { UsageError } from "../util/errors.js";

/** Pre-tokenizers whose model sets ignore_merges in its tokenizer.json (llama.cpp: Llama 3 only). */
const WHOLE_WORD_FIRST = new Set(["llama-bpe"]);

export class ByteLevelBpeTokenizer implements Tokenizer {
  readonly kind = "byte-level-bpe" as const;
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly addsBos: boolean;
  readonly addsEos: boolean;
  readonly endOfGenerationIds: readonly number[];
  private readonly merger: BpeMerger;
  private readonly table: BpeTokenBytes;
  private readonly splitter: SpecialTokenSplitter;

  constructor(
    readonly vocabulary: BpeVocabulary,
    readonly preTokenizer: PreTokenizer,
  ) {
    this.vocabSize = vocabulary.tokens.length;
    this.bosId = vocabulary.bosId;
    this.eosId = vocabulary.eosId;
    this.addsBos = vocabulary.addBos;
    this.addsEos = vocabulary.addEos;
    this.endOfGenerationIds = vocabulary.endOfGenerationIds;
    this.merger = new BpeMerger(vocabulary, WHOLE_WORD_FIRST.has(preTokenizer.name));
    this.table = new BpeTokenBytes(vocabulary.tokens, vocabulary.types);
    this.splitter = new SpecialTokenSplitter(
      vocabulary.tokens.flatMap((text, id): SpecialToken[] => {
        const type = vocabulary.types[id];
        if (type === "user") return [{ id, text, alwaysMatched: true }];
        if (type === "control" || type === "unknown") return [{ id, text, alwaysMatched: false }];
        return [];
      }),
    );
  }

  encode(text: string, options: EncodeOptions = {}): Int32Array {
    const ids: number[] = [];
    if (options.addBos ?? this.addsBos) ids.push(this.bosId);
    for (const fragment of this.splitter.split(text, options.parseSpecial ?? false)) {
      if (typeof fragment === "number") {
        ids.push(fragment);
        continue;
      }
      const normalized = this.preTokenizer.normalization === undefined ? fragment : fragment.normalize(this.preTokenizer.normalization);
      for (const word of this.preTokenizer.split(normalized)) {
        for (const id of this.merger.mergeWord(word)) ids.push(id);
      }
    }
    if (options.addEos ?? this.addsEos) ids.push(this.eosId);
    return Int32Array.from(ids);
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    return decodeTokens(this.table, ids, options.special ?? false);
  }

  createStreamDecoder(options: DecodeOptions = {}): TokenTextStream {
    return new TokenStreamDecoder(this.table, options.special ?? false);
  }

  isEndOfGeneration(id: number): boolean {
    return this.endOfGenerationIds.includes(id);
  }

  tokenText(id: number): string {
    const text = this.vocabulary.tokens[id];
    if (text === undefined) throw new UsageError(`token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    return text;
  }
}
