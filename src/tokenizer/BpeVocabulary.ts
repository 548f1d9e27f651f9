/**
 * A byte-level BPE vocabulary (GGUF tokenizer.ggml.model = "gpt2") checked and indexed for the tokenizer:
 * token texts and types, the merges as (left id, right id) -> (rank, merged id), the id of each byte's alphabet
 * character, BOS/EOS and the end-of-generation ids, and llama.cpp's defaults for absent keys.
 */
import { FileFormatError } from "../util/errors.js";
import { BYTE_TO_CHAR } from "./byteLevelAlphabet.js";
import { MergeTable } from "./MergeTable.js";
import { endOfGenerationSet } from "./Tokenizer.js";
import type { GgufVocabularyFields, PieceType } from "./Vocabulary.js";
import { pieceTypesFromGguf } from "./Vocabulary.js";

export interface BpeVocabulary {
  /** Token text per id as the file stores it: normal tokens in the byte-level alphabet, added tokens as plain text. */
  readonly tokens: readonly string[];
  readonly types: readonly PieceType[];
  /** Token text -> id (the lower id when a text repeats). */
  readonly tokenIds: ReadonlyMap<string, number>;
  /** (left, right) -> rank of the merge of those two tokens (lower merges first). */
  readonly mergeRanks: MergeTable;
  /** The id each merge rank produces; shape [merges]. */
  readonly mergedIds: Int32Array;
  /** Id of the token for each byte's alphabet character; shape [256]. */
  readonly byteTokenIds: Int32Array;
  readonly bosId: number;
  readonly eosId: number;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly endOfGenerationIds: readonly number[];
}

/**
 * Token texts that end generation in the models this engine runs, besides the ids the file names (llama.cpp
 * recognises these by text too): Llama 3's end of turn / message / text, ChatML's (Qwen, SmolLM2) end of turn, and
 * GPT-2's / Qwen's end of text.
 */
const END_OF_GENERATION_TEXTS = ["<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|im_end|>", "<|endoftext|>"];

export function bpeVocabularyFromGguf(fields: GgufVocabularyFields, addBosDefault: boolean, file: string): BpeVocabulary {
  const tokens = fields.tokens;
  const vocabSize = tokens.length;
  if (vocabSize === 0) throw new FileFormatError(file, "the vocabulary is empty");
  // Without token types every token is normal, as llama.cpp reads such a file.
  const types = fields.tokenTypes === undefined ? tokens.map((): PieceType => "normal") : pieceTypesFromGguf(fields.tokenTypes, tokens, file);
  const tokenIds = new Map<string, number>();
  tokens.forEach((token, id) => {
    if (!tokenIds.has(token)) tokenIds.set(token, id);
  });

  const byteTokenIds = Int32Array.from(BYTE_TO_CHAR, (char, byte) => {
    const id = tokenIds.get(char);
    if (id === undefined) {
      throw new FileFormatError(file, `the byte-level vocabulary has no token for byte 0x${byte.toString(16).padStart(2, "0")} ("${char}")`);
    }
    return id;
  });

  const merges = fields.merges;
  if (merges === undefined) throw new FileFormatError(file, "tokenizer.ggml.merges is missing; byte-level BPE needs its merges");
  const mergeRanks = new MergeTable(merges.length);
  const mergedIds = new Int32Array(merges.length);
  merges.forEach((merge, rank) => {
    // llama.cpp splits at the first space after the first character: the left part may itself be a space.
    const space = merge.indexOf(" ", 1);
    const left = space < 0 ? undefined : tokenIds.get(merge.slice(0, space));
    const right = space < 0 ? undefined : tokenIds.get(merge.slice(space + 1));
    const merged = space < 0 ? undefined : tokenIds.get(merge.slice(0, space) + merge.slice(space + 1));
    if (left === undefined || right === undefined || merged === undefined) {
      throw new FileFormatError(file, `tokenizer.ggml.merges[${rank}] ${JSON.stringify(merge)} is not two tokens whose concatenation is a token`);
    }
    mergeRanks.add(left, right, rank);
    mergedIds[rank] = merged;
  });

  const checkId = (key: string, id: number | undefined): number | undefined => {
    if (id !== undefined && !(Number.isInteger(id) && id >= 0 && id < vocabSize)) {
      throw new FileFormatError(file, `${key} ${id} is outside the vocabulary of ${vocabSize} tokens`);
    }
    return id;
  };
  const eosId = checkId("tokenizer.ggml.eos_token_id", fields.eosId) ?? checkId("tokenizer.ggml.bos_token_id", fields.bosId);
  if (eosId === undefined) throw new FileFormatError(file, "names neither tokenizer.ggml.eos_token_id nor bos_token_id");
  const bosId = checkId("tokenizer.ggml.bos_token_id", fields.bosId) ?? eosId;
  const byText = END_OF_GENERATION_TEXTS.map((text) => tokenIds.get(text));
  const named = [eosId, checkId("tokenizer.ggml.eot_token_id", fields.eotId), checkId("tokenizer.ggml.eom_token_id", fields.eomId)];
  return {
    tokens,
    types,
    tokenIds,
    mergeRanks,
    mergedIds,
    byteTokenIds,
    bosId,
    eosId,
    addBos: fields.addBos ?? addBosDefault,
    addEos: fields.addEos ?? false,
    endOfGenerationIds: endOfGenerationSet([...named, ...byText], vocabSize),
  };
}
