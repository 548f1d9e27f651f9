/**
 * A Hugging Face byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json) -> GGUF tokenizer.ggml.* entries,
 * following llama.cpp's converter (convert_hf_to_gguf.py, _set_vocab_gpt2 and gguf-py's SpecialVocab):
 *   - tokens in id order; an id no token has becomes "[PAD<id>]" of type unused;
 *   - added tokens are control when marked special or when they look special ("<|...|>"), user-defined otherwise;
 *     all other tokens are normal;
 *   - merges as "left right" strings, in rank order;
 *   - bos/eos/unknown/padding ids from the config's bos_token/eos_token/unk_token/pad_token; add_bos_token and
 *     add_eos_token when the config sets them (else the reader's default applies: llama.cpp adds BOS for Llama 3
 *     only), or when the post-processor is a template that starts with BOS;
 *   - tokenizer.ggml.pre from the pre-tokenizer configuration (llama.cpp hashes a tokenization of a test text
 *     instead; the four pre-tokenizers supported here are told apart by their configuration alone).
 * The input is the parsed JSON; the caller reads the files (this module uses no Node API).
 */
import { FileFormatError, UnsupportedError } from "../util/errors.js";
import type { GgufMetadataEntry } from "./gguf/layoutGguf.js";
import { LLAMA_TOKEN_TYPES } from "./llamaGgufMetadata.js";

/** The pieces of tokenizer.json this converter reads (other fields are ignored). */
interface TokenizerJson {
  readonly model?: { readonly type?: string; readonly vocab?: Record<string, number>; readonly merges?: readonly (string | readonly string[])[] };
  readonly added_tokens?: readonly { readonly id: number; readonly content: string; readonly special?: boolean }[];
  readonly normalizer?: unknown;
  readonly pre_tokenizer?: unknown;
  readonly post_processor?: unknown;
}

export interface ConvertedVocabulary {
  readonly entries: GgufMetadataEntry[];
  readonly vocabSize: number;
  readonly pre: string;
}

/**
 * `tokenizerJson` and `config` are the parsed files; `file` names tokenizer.json in errors; `pre` overrides the
 * detected pre-tokenizer name.
 */
export function ggufVocabularyFromTokenizerJson(
  tokenizerJson: unknown,
  config: Record<string, unknown>,
  file: string,
  pre?: string,
): ConvertedVocabulary {
  const json = tokenizerJson as TokenizerJson;
  const model = json.model;
  if (model?.type !== "BPE" || typeof model.vocab !== "object" || !Array.isArray(model.merges)) {
    throw new UnsupportedError(`${file}: only byte-level BPE tokenizer.json files (model.type "BPE" with vocab and merges) are converted`);
  }
  const preName = pre ?? detectPreTokenizer(json, file);

  const byId = new Map<number, { text: string; type: number }>();
  for (const [text, id] of Object.entries(model.vocab)) byId.set(id, { text, type: LLAMA_TOKEN_TYPES.normal });
  for (const added of json.added_tokens ?? []) {
    const control = added.special === true || looksSpecial(added.content);
    byId.set(added.id, { text: added.content, type: control ? LLAMA_TOKEN_TYPES.control : LLAMA_TOKEN_TYPES.userDefined });
  }
  let vocabSize = 0;
  for (const id of byId.keys()) vocabSize = Math.max(vocabSize, id + 1);
  const tokens: string[] = [];
  const types = new Int32Array(vocabSize);
  for (let id = 0; id < vocabSize; id++) {
    const token = byId.get(id) ?? { text: `[PAD${id}]`, type: LLAMA_TOKEN_TYPES.unused };
    tokens.push(token.text);
    types[id] = token.type;
  }
  const merges = model.merges.map((merge) => (typeof merge === "string" ? merge : merge.join(" ")));

  const idOf = new Map(tokens.map((text, id) => [text, id]));
  const specialId = (key: string): number | undefined => {
    const value = config[key];
    const text = typeof value === "string" ? value : (value as { content?: unknown } | null)?.content;
    if (typeof text !== "string") return undefined;
    const id = idOf.get(text);
    if (id === undefined) throw new FileFormatError(file, `the config's ${key} ${JSON.stringify(text)} is not a token`);
    return id;
  };
  const entries: GgufMetadataEntry[] = [
    { key: "tokenizer.ggml.model", value: { type: "string", value: "gpt2" } },
    { key: "tokenizer.ggml.pre", value: { type: "string", value: preName } },
    { key: "tokenizer.ggml.tokens", value: { type: "array", elementType: "string", values: tokens } },
    { key: "tokenizer.ggml.token_type", value: { type: "array", elementType: "i32", values: types } },
    { key: "tokenizer.ggml.merges", value: { type: "array", elementType: "string", values: merges } },
  ];
  const ids: [string, number | undefined][] = [
    ["bos_token_id", specialId("bos_token")],
    ["eos_token_id", specialId("eos_token")],
    ["unknown_token_id", specialId("unk_token")],
    ["padding_token_id", specialId("pad_token")],
  ];
  for (const [key, id] of ids) {
    if (id !== undefined) entries.push({ key: `tokenizer.ggml.${key}`, value: { type: "u32", value: id } });
  }
  const addBos = typeof config["add_bos_token"] === "boolean" ? config["add_bos_token"] : templateAddsBos(json.post_processor, ids[0]![1]);
  for (const [key, value] of [["add_bos_token", addBos], ["add_eos_token", config["add_eos_token"]]] as const) {
    if (typeof value === "boolean") entries.push({ key: `tokenizer.ggml.${key}`, value: { type: "bool", value } });
  }
  if (typeof config["chat_template"] === "string") {
    entries.push({ key: "tokenizer.chat_template", value: { type: "string", value: config["chat_template"] } });
  }
  return { entries, vocabSize, pre: preName };
}

/** llama.cpp's converter treats these added tokens as control even when tokenizer.json does not mark them special. */
function looksSpecial(text: string): boolean {
  return (text.startsWith("<|") && text.endsWith("|>")) || (text.startsWith("<｜") && text.endsWith("｜>"));
}

/** True/false when the post-processor is a template (it starts with BOS or not); undefined otherwise. */
function templateAddsBos(postProcessor: unknown, bosId: number | undefined): boolean | undefined {
  const processor = postProcessor as { type?: string; single?: { SpecialToken?: { id?: string } }[]; special_tokens?: Record<string, { ids?: number[] }> } | null;
  if (processor?.type !== "TemplateProcessing" || !Array.isArray(processor.single) || bosId === undefined) return undefined;
  const first = processor.single[0]?.SpecialToken?.id;
  return first !== undefined && processor.special_tokens?.[first]?.ids?.[0] === bosId;
}

/** The regex of a Split pre-tokenizer step, if the step is one. */
function splitPattern(step: unknown): string | undefined {
  const split = step as { type?: string; pattern?: { Regex?: string } };
  return split?.type === "Split" ? split.pattern?.Regex : undefined;
}

const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/**
 * The llama.cpp pre-tokenizer name for the configurations of Llama 3 (Split with its regex, then ByteLevel),
 * Qwen 2/3 (the same with single digits, after NFC), SmolLM2 (Digits(individual) then ByteLevel with GPT-2's
 * regex) and GPT-2 (ByteLevel with its regex); anything else needs an explicit name.
 */
function detectPreTokenizer(json: TokenizerJson, file: string): string {
  const pre = json.pre_tokenizer as { type?: string; use_regex?: boolean; pretokenizers?: unknown[] } | null;
  const steps = pre?.type === "Sequence" ? (pre.pretokenizers ?? []) : [pre];
  const byteLevel = (step: unknown, useRegex: boolean): boolean => {
    const s = step as { type?: string; use_regex?: boolean };
    return s?.type === "ByteLevel" && (s.use_regex ?? true) === useRegex;
  };
  const normalizer = (json.normalizer as { type?: string } | null)?.type;
  if (steps.length === 2 && byteLevel(steps[1], false)) {
    if (splitPattern(steps[0]) === LLAMA3_PATTERN && normalizer === undefined) return "llama-bpe";
    if (splitPattern(steps[0]) === QWEN2_PATTERN && normalizer === "NFC") return "qwen2";
  }
  const digits = steps[0] as { type?: string; individual_digits?: boolean };
  if (steps.length === 2 && digits?.type === "Digits" && digits.individual_digits === true && byteLevel(steps[1], true)) return "smollm";
  if (steps.length === 1 && byteLevel(steps[0], true) && normalizer === undefined) return "gpt-2";
  throw new UnsupportedError(
    `${file}: the pre-tokenizer configuration is not one of Llama 3 ("llama-bpe"), Qwen 2/3 ("qwen2"), SmolLM2 ("smollm") or GPT-2 ("gpt-2"); name it explicitly if it is equivalent`,
  );
}
