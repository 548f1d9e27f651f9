/**
 * Byte-level BPE pre-tokenizers: the regular expressions that cut text into words before any merge, selected by the
 * GGUF key tokenizer.ggml.pre with the names llama.cpp's converter writes. The patterns are those of each model's
 * Hugging Face tokenizer.json, with two adjustments for JavaScript:
 *   - "(?i:'s|'t|...)" is spelled "'[sS]|'[tT]|..." (JavaScript has no scoped case-insensitivity; llama.cpp does
 *     the same, and it keeps "'ſ" from matching "'s" through Unicode case folding);
 *   - "\s" is Unicode White_Space, as in the Rust regex engine of `tokenizers` and in llama.cpp, rather than
 *     JavaScript's \s (which adds U+FEFF and leaves out U+0085).
 * Every pattern can match at any position, so the words tile the text; gaps are kept anyway, as Split(Isolated) does.
 */
import { UnsupportedError } from "../util/errors.js";

export interface PreTokenizer {
  /** The canonical tokenizer.ggml.pre name. */
  readonly name: string;
  /** Unicode normalization the model's tokenizer.json applies before splitting (Qwen: NFC), or none. */
  readonly normalization: "NFC" | undefined;
  /** The words of `text`, in order; their concatenation is `text`. */
  split(text: string): string[];
}

/** Unicode White_Space: \t..\r, space, NEL, NBSP, ogham space, U+2000..U+200A, LS, PS, NNBSP, MMSP, ideographic. */
const WS = "\\t-\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
const S = `[${WS}]`;
const NOT_S = `[^${WS}]`;
const CONTRACTIONS_ANY_CASE = "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]";
const CONTRACTIONS = "'s|'t|'re|'ve|'m|'ll|'d";

/** Llama 3 (`llama-bpe`) and Qwen 2 (`qwen2`) differ only in how many digits one word may hold. */
function llama3Style(digits: string): RegExp {
  return new RegExp(
    `(?:${CONTRACTIONS_ANY_CASE})|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}${digits}| ?[^${WS}\\p{L}\\p{N}]+[\\r\\n]*|${S}*[\\r\\n]+|${S}+(?!${NOT_S})|${S}+`,
    "gu",
  );
}

/** GPT-2's pattern (HF ByteLevel with use_regex). */
const GPT2 = new RegExp(`${CONTRACTIONS}| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|${S}+(?!${NOT_S})|${S}+`, "gu");
/** SmolLM's first step, HF Digits(individual_digits): every digit is a word of its own. */
const SINGLE_DIGIT = /\p{N}/gu;

interface PreTokenizerSpec {
  readonly normalization: "NFC" | undefined;
  /** Applied in order, each to the words of the previous one. */
  readonly patterns: readonly RegExp[];
}

const SPECS: Readonly<Record<string, PreTokenizerSpec>> = {
  "llama-bpe": { normalization: undefined, patterns: [llama3Style("{1,3}")] },
  qwen2: { normalization: "NFC", patterns: [llama3Style("")] },
  smollm: { normalization: undefined, patterns: [SINGLE_DIGIT, GPT2] },
  "gpt-2": { normalization: undefined, patterns: [GPT2] },
};

/** Other spellings of the same pre-tokenizers that llama.cpp accepts. */
const ALIASES: Readonly<Record<string, string>> = { llama3: "llama-bpe", "llama-v3": "llama-bpe", gpt2: "gpt-2" };

export const SUPPORTED_PRE_TOKENIZERS: readonly string[] = Object.keys(SPECS);

/** The pre-tokenizer named by tokenizer.ggml.pre; anything else is refused with the supported list. */
export function preTokenizerFor(pre: string | undefined, file: string): PreTokenizer {
  const supported = `supported: ${SUPPORTED_PRE_TOKENIZERS.map((name) => `"${name}"`).join(", ")}`;
  if (pre === undefined) {
    throw new UnsupportedError(`${file}: tokenizer.ggml.pre is missing, so the byte-level BPE pre-tokenizer is unknown (${supported})`);
  }
  const name = ALIASES[pre] ?? pre;
  const spec = SPECS[name];
  if (spec === undefined) throw new UnsupportedError(`${file}: tokenizer.ggml.pre "${pre}" is not supported (${supported})`);
  return { name, normalization: spec.normalization, split: (text) => spec.patterns.reduce(splitEach, [text]) };
}

function splitEach(words: string[], pattern: RegExp): string[] {
  const out: string[] = [];
  for (const word of words) {
    let end = 0;
    for (const match of word.matchAll(pattern)) {
      if (match.index > end) out.push(word.slice(end, match.index));
      if (match[0].length > 0) out.push(match[0]);
      end = match.index + match[0].length;
    }
    if (end < word.length) out.push(word.slice(end));
  }
  return out;
}
