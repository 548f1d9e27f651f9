/**
 * The stored form of llama.cpp's answers for the compatibility cases (test/compat/llamacpp-expectations.json), so
 * that a test can hold this engine to them without the peer: per case the file's SHA-256 (the regenerated GGUF must
 * be the one llama.cpp ran), the token ids fed, llama.cpp's greedy tokens, and per text position its TOP_K most
 * probable next tokens with their probabilities and the probability of the text's own next token (in millionths,
 * the whole distribution would be 256 x vocab numbers per case).
 */
import { topK, type ProbeResult } from "./probe.js";

export const TOP_K = 4;
/** Probabilities are stored as round(p · SCALE). */
export const PROBABILITY_SCALE = 1e6;
/** The check's tolerance on any next-token probability. */
export const PROBABILITY_TOLERANCE = 1e-3;

export interface CaseExpectation {
  readonly id: string;
  readonly sha256: string;
  /** the text's ids: our tokenizer's from the case's file (with BOS where it adds one) */
  readonly textTokens: readonly number[];
  /** llama.cpp's tokenization of the text (from the same file) gave the same ids (absent: not recorded by that run) */
  readonly llamaCppTextIdsEqual?: boolean;
  readonly greedyPrompt: readonly number[];
  readonly greedy: readonly number[];
  /** per text position: [id, round(p·1e6)] pairs, most probable first */
  readonly top: readonly (readonly (readonly [number, number])[])[];
  /** per text position but the last: round(p(next text token)·1e6) */
  readonly nextTextToken: readonly number[];
  /** what the live check measured against llama.cpp on this file (over the whole vocabulary; absent: not recorded) */
  readonly measured?: { readonly maxProbabilityDifference: number; readonly greedyAgreement: number };
}

export interface ExpectationsFile {
  readonly producedBy: string;
  readonly command: string;
  readonly text: string;
  readonly cases: readonly CaseExpectation[];
}

export function expectationFrom(
  id: string,
  sha256: string,
  textTokens: readonly number[],
  llamaCppTextIdsEqual: boolean,
  greedyPrompt: readonly number[],
  peer: ProbeResult,
  measured: NonNullable<CaseExpectation["measured"]>,
): CaseExpectation {
  const scaled = (p: number) => Math.round(p * PROBABILITY_SCALE);
  return {
    id,
    sha256,
    textTokens,
    llamaCppTextIdsEqual,
    greedyPrompt,
    greedy: peer.greedy,
    top: peer.probabilities.map((p) => topK(p, TOP_K).map((token) => [token, scaled(p[token]!)] as const)),
    nextTextToken: peer.probabilities.slice(0, -1).map((p, t) => scaled(p[textTokens[t + 1]!]!)),
    measured,
  };
}

export interface ExpectationCheck {
  /** largest |ours - stored| over every stored probability (the stored rounding, 5e-7, included) */
  readonly maxProbabilityDifference: number;
  /** where it is: text position and token */
  readonly worst: { readonly position: number; readonly token: number };
  /** greedy steps equal before the first difference (= steps when all agree) */
  readonly greedyAgreement: number;
}

export function checkAgainstExpectation(expected: CaseExpectation, ours: ProbeResult): ExpectationCheck {
  let max = 0;
  let worst = { position: 0, token: 0 };
  const consider = (position: number, token: number, stored: number) => {
    const difference = Math.abs(ours.probabilities[position]![token]! - stored / PROBABILITY_SCALE);
    if (difference > max) {
      max = difference;
      worst = { position, token };
    }
  };
  expected.top.forEach((pairs, position) => pairs.forEach(([token, p]) => consider(position, token, p)));
  expected.nextTextToken.forEach((p, position) => consider(position, expected.textTokens[position + 1]!, p));
  let greedyAgreement = 0;
  while (greedyAgreement < expected.greedy.length && ours.greedy[greedyAgreement] === expected.greedy[greedyAgreement]) greedyAgreement++;
  return { maxProbabilityDifference: max, worst, greedyAgreement };
}
