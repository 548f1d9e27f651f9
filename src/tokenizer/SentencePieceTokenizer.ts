/**
 * The SentencePiece BPE tokenizer of LLaMA-family models (llama2.c tok.bin files and GGUF "llama" vocabularies),
 * with llama2.c's encoding and decoding semantics; see SentencePieceEncoder and TokenByteTable for the rules.
 * With special-token parsing, control and user pieces in the text become their ids and each stretch of text after
 * one gets the dummy-prefix space again, as llama.cpp does.
 */
import { UsageError } from "../util/errors.js";
import { SentencePieceEncoder } from "./SentencePieceEncoder.js";
import { SpecialTokenSplitter, type SpecialToken } from "./SpecialTokenSplitter.js";
import { TokenByteTable } from "./TokenByteTable.js";
import { TokenStreamDecoder } from "./TokenStreamDecoder.js";
import { decodeTokens } from "./decodeTokens.js";
import { endOfGenerationSet, type DecodeOptions, type EncodeOptions, type Tokenizer, type TokenTextStream } from "./Tokenizer.js";
import type { Vocabulary } from "./Vocabulary.js";

export interface SentencePieceFlags {
  /** tokenizer.ggml.add_bos_token; llama.cpp's default for SentencePiece is true (llama2.c always adds BOS). */
  readonly addBos?: boolean;
  /** tokenizer.ggml.add_eos_token; default false. */
  readonly addEos?: boolean;
  /** End-of-turn / end-of-message ids beyond EOS (tokenizer.ggml.eot_token_id, eom_token_id). */
  readonly extraEndOfGenerationIds?: readonly (number | undefined)[];
}

export class SentencePieceTokenizer implements Tokenizer {
  readonly kind = "sentencepiece" as const;
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly addsBos: boolean;
  readonly addsEos: boolean;
  readonly endOfGenerationIds: readonly number[];
  private readonly encoder: SentencePieceEncoder;
  private readonly table: TokenByteTable;
  private readonly splitter: SpecialTokenSplitter;

  constructor(
    readonly vocabulary: Vocabulary,
    flags: SentencePieceFlags = {},
  ) {
    this.vocabSize = vocabulary.pieces.length;
    this.bosId = vocabulary.bosId;
    this.eosId = vocabulary.eosId;
    this.addsBos = flags.addBos ?? true;
    this.addsEos = flags.addEos ?? false;
    this.endOfGenerationIds = endOfGenerationSet([vocabulary.eosId, ...(flags.extraEndOfGenerationIds ?? [])], this.vocabSize);
    this.encoder = new SentencePieceEncoder(vocabulary);
    this.table = new TokenByteTable(vocabulary);
    // Only consulted when parsing special tokens: without it, SentencePiece text is encoded exactly as before.
    this.splitter = new SpecialTokenSplitter(
      vocabulary.pieces.flatMap((piece, id): SpecialToken[] => {
        const type = vocabulary.types[id];
        const special = type === "control" || type === "user" || type === "unknown";
        return special ? [{ id, text: type === "control" ? piece.trim() : piece, alwaysMatched: false }] : [];
      }),
    );
  }

  encode(text: string, options: EncodeOptions = {}): Int32Array {
    const ids: number[] = [];
    if (options.addBos ?? this.addsBos) ids.push(this.bosId);
    if (!options.parseSpecial) {
      for (const id of this.encoder.encode(text)) ids.push(id);
    } else {
      // llama.cpp: the dummy prefix goes in front of the first stretch of text and of each one after a special token.
      let afterSpecial = true;
      for (const fragment of this.splitter.split(text, true)) {
        if (typeof fragment === "number") ids.push(fragment);
        else for (const id of this.encoder.encode(fragment, afterSpecial)) ids.push(id);
        afterSpecial = typeof fragment === "number";
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
    const piece = this.vocabulary.pieces[id];
    if (piece === undefined) throw new UsageError(`token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    return piece;
  }
}
