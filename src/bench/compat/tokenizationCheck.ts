/**
 * The tokenizer half of the llama.cpp compatibility check: llama.cpp loads the case's GGUF and tokenizes
 *   - the text the probabilities are read on: its ids must equal ours (so both engines really are fed the text our
 *     tokenizer gives), and
 *   - for the real vocabularies, every hard case (test/fixtures/tokenizer/hard-cases.json: emoji, CJK, combining
 *     marks, digit runs, whitespace runs, special tokens in text, lone surrogates), with special-token parsing off
 *     and on: each must equal ours, except where llama.cpp is known to depart from the model's own tokenizer
 *     (bench/tokenizer/knownDeviations.ts), and there it must still differ (else the list is stale).
 */
import type { Tokenizer } from "../../tokenizer/Tokenizer.js";
import type { HardCase } from "../tokenizer/hardCases.js";
import { isDeviation, LLAMA_CPP_DEVIATIONS } from "../tokenizer/knownDeviations.js";
import type { LlamaCppSession } from "./llamaCppProbe.js";

export interface HardCaseAgreement {
  /** cases whose ids (plain and special parsing) equal llama.cpp's */
  readonly equal: number;
  readonly total: number;
  /** listed llama.cpp deviations that did differ, by case name */
  readonly knownDeviations: readonly string[];
  /** cases that differ without being listed, or are listed but equal: each fails the check */
  readonly unexpected: readonly string[];
}

export function sameIds(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Ours and llama.cpp's ids of `text` without BOS/EOS and without special-token parsing. */
export async function textAgreement(peer: LlamaCppSession, path: string, tokenizer: Tokenizer, text: string): Promise<{ equal: boolean; ours: number[]; theirs: number[] }> {
  const ours = [...tokenizer.encode(text, { addBos: false, addEos: false })];
  const [theirs] = await peer.tokenize(path, [text], false);
  return { equal: sameIds(ours, theirs!), ours, theirs: theirs! };
}

export async function hardCaseAgreement(
  peer: LlamaCppSession,
  path: string,
  tokenizer: Tokenizer,
  vocabulary: "llama3" | "qwen3",
  cases: readonly HardCase[],
): Promise<HardCaseAgreement> {
  const texts = cases.map((c) => c.text);
  const plain = await peer.tokenize(path, texts, false);
  const special = await peer.tokenize(path, texts, true);
  let equal = 0;
  const knownDeviations: string[] = [];
  const unexpected: string[] = [];
  cases.forEach(({ name, text }, i) => {
    const same =
      sameIds(tokenizer.encode(text, { addBos: false, addEos: false }), plain[i]!) &&
      sameIds(tokenizer.encode(text, { addBos: false, addEos: false, parseSpecial: true }), special[i]!);
    const listed = isDeviation(LLAMA_CPP_DEVIATIONS, vocabulary, name);
    if (same) equal++;
    if (same && listed) unexpected.push(`${name} (listed as a llama.cpp deviation but equal)`);
    else if (!same && listed) knownDeviations.push(name);
    else if (!same) unexpected.push(name);
  });
  return { equal, total: cases.length, knownDeviations, unexpected };
}
