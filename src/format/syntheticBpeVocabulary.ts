/**
 * A made-up byte-level BPE vocabulary (GGUF tokenizer.ggml.model = "gpt2", the kind Qwen, Llama 3 and SmolLM2 ship)
 * for synthetic models: small, yet a valid vocabulary that llama.cpp loads and encodes any text with.
 *
 *   ids 0..255    the 256 bytes as GPT-2's byte-to-unicode characters (printable Latin-1 bytes stand for themselves,
 *                 the others are shifted to U+0100 and up: a space is "Ġ", a newline "Ċ")
 *   then          merged pieces from the same piece list as the synthetic SentencePiece vocabulary (" a", "ab",
 *                 " ab", ...): each is an earlier piece + one character, so its merge "prefix last" (rank = order)
 *                 can always fire
 *   last          special tokens (control): <|endoftext|> (end of text), <|im_start|>, <|im_end|>
 */
import { ConfigError } from "../util/errors.js";
import type { GgufMetadataEntry } from "./gguf/layoutGguf.js";
import { LLAMA_TOKEN_TYPES } from "./llamaGgufMetadata.js";
import { textPieces } from "./syntheticVocabulary.js";

export interface SyntheticBpeVocabulary {
  readonly tokens: readonly string[];
  /** "left right" pairs in rank order, as tokenizer.ggml.merges stores them. */
  readonly merges: readonly string[];
  readonly eosId: number;
  /** ids of the control tokens (the special tokens at the end). */
  readonly controlIds: readonly number[];
}

const SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
export const MIN_SYNTHETIC_BPE_VOCAB = 256 + SPECIAL_TOKENS.length;

/** GPT-2's byte -> character table: bytes that are printable Latin-1 keep their code point, the rest map to 256+. */
export function byteToUnicode(): string[] {
  const table = new Array<string>(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCodePoint(printable ? b : 256 + shifted++);
  }
  return table;
}

export function syntheticBpeVocabulary(vocabSize: number): SyntheticBpeVocabulary {
  if (!Number.isInteger(vocabSize) || vocabSize < MIN_SYNTHETIC_BPE_VOCAB || vocabSize > 1 << 20) {
    throw new ConfigError("vocabSize", `an integer in ${MIN_SYNTHETIC_BPE_VOCAB}..${1 << 20} (256 bytes + ${SPECIAL_TOKENS.length} special tokens)`, vocabSize);
  }
  const bytes = byteToUnicode();
  const encoder = new TextEncoder();
  const asBytes = (text: string) => Array.from(encoder.encode(text), (b) => bytes[b]!).join("");
  const tokens = [...bytes];
  const merges: string[] = [];
  const seen = new Set(tokens);
  const mergedCount = vocabSize - SPECIAL_TOKENS.length;
  for (const piece of textPieces()) {
    if (tokens.length === mergedCount) break;
    if (piece.length < 2) continue; // single characters are byte tokens already
    const token = asBytes(piece);
    if (seen.has(token)) continue;
    seen.add(token);
    tokens.push(token);
    merges.push(`${asBytes(piece.slice(0, -1))} ${asBytes(piece.slice(-1))}`);
  }
  const controlIds = SPECIAL_TOKENS.map((special) => tokens.push(special) - 1);
  return { tokens, merges, eosId: controlIds[0]!, controlIds };
}

/**
 * tokenizer.ggml.* entries for this vocabulary as llama.cpp's converter writes a Qwen 2 one: model "gpt2", pre-
 * tokenizer `pre` ("qwen2" for Qwen 2/3), no BOS added, <|endoftext|> as end of text.
 */
export function bpeVocabularyMetadata(vocabulary: SyntheticBpeVocabulary, pre: string): GgufMetadataEntry[] {
  const control = new Set(vocabulary.controlIds);
  const types = Int32Array.from(vocabulary.tokens, (_, id) => (control.has(id) ? LLAMA_TOKEN_TYPES.control : LLAMA_TOKEN_TYPES.normal));
  return [
    { key: "tokenizer.ggml.model", value: { type: "string", value: "gpt2" } },
    { key: "tokenizer.ggml.pre", value: { type: "string", value: pre } },
    { key: "tokenizer.ggml.tokens", value: { type: "array", elementType: "string", values: vocabulary.tokens } },
    { key: "tokenizer.ggml.token_type", value: { type: "array", elementType: "i32", values: types } },
    { key: "tokenizer.ggml.merges", value: { type: "array", elementType: "string", values: vocabulary.merges } },
    { key: "tokenizer.ggml.eos_token_id", value: { type: "u32", value: vocabulary.eosId } },
    { key: "tokenizer.ggml.padding_token_id", value: { type: "u32", value: vocabulary.eosId } },
    { key: "tokenizer.ggml.bos_token_id", value: { type: "u32", value: vocabulary.eosId } },
    { key: "tokenizer.ggml.add_bos_token", value: { type: "bool", value: false } },
  ];
}
