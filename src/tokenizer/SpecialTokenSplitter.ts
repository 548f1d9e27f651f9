/**
 * Cuts the special tokens out of a text before it is tokenized, as llama.cpp's tokenizer_st_partition does:
 * each occurrence of a special token's text becomes that token's id, and the text between them is tokenized
 * normally. Tokens are tried longest text first, so "<|im_start|>" is never cut as a shorter token inside it.
 *
 * Which tokens count: user-defined tokens always (Hugging Face's added tokens with special = false, e.g. Qwen's
 * "<think>"); control and unknown tokens only when the caller asks for special-token parsing (chat templates),
 * so that user text containing "<|eot_id|>" stays text by default.
 */

/** A piece of the partitioned input: text still to tokenize, or a token id cut out of it. */
export type Fragment = string | number;

export interface SpecialToken {
  readonly id: number;
  readonly text: string;
  /** true for user-defined tokens (always matched), false for control/unknown ones (matched when parsing special). */
  readonly alwaysMatched: boolean;
}

export class SpecialTokenSplitter {
  /** Longest text first, both lists; ties keep the lower id first. */
  private readonly always: readonly SpecialToken[];
  private readonly all: readonly SpecialToken[];

  constructor(tokens: readonly SpecialToken[]) {
    const sorted = tokens
      .filter((token) => token.text.length > 0)
      .sort((a, b) => b.text.length - a.text.length || a.id - b.id);
    this.all = sorted;
    this.always = sorted.filter((token) => token.alwaysMatched);
  }

  /** The fragments of `text` in order; a text without special tokens comes back as [text] (or [] when empty). */
  split(text: string, parseSpecial: boolean): Fragment[] {
    let fragments: Fragment[] = text.length === 0 ? [] : [text];
    for (const token of parseSpecial ? this.all : this.always) {
      if (!fragments.some((fragment) => typeof fragment === "string" && fragment.includes(token.text))) continue;
      fragments = fragments.flatMap((fragment) => (typeof fragment === "string" ? cutAll(fragment, token) : [fragment]));
    }
    return fragments;
  }
}

/** `text` with every occurrence of the token's text (left to right, not overlapping) replaced by its id. */
function cutAll(text: string, token: SpecialToken): Fragment[] {
  const parts: Fragment[] = [];
  let start = 0;
  for (let at = text.indexOf(token.text); at >= 0; at = text.indexOf(token.text, start)) {
    if (at > start) parts.push(text.slice(start, at));
    parts.push(token.id);
    start = at + token.text.length;
  }
  if (start < text.length) parts.push(text.slice(start));
  return parts;
}
