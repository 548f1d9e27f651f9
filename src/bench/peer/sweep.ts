import { ConfigError } from "../../util/errors.js";
import { median } from "../timing.js";
import type { ContextPoint, SweepShape } from "./job.js";

/**
 * The measuring protocol both engines go through, so that their figures differ only by the engine:
 *   1. prefill: the same `prefillTokens`-token prompt from an empty context, `repeats` times (median tokens/s);
 *   2. the context left by the last prefill then grows to each length L of `contexts` in turn (untimed prefill of
 *      the next prompt tokens), and at each L `repeats` blocks of `decodeSteps` single-token steps are timed
 *      (median tokens/s). Decode at "context L" therefore covers positions L .. L + repeats·decodeSteps.
 * Every step asks for the logits of its last token only and takes the greedy next token, as a generate loop does.
 */
export interface SessionUnderTest {
  readonly vocabSize: number;
  /** Empties the context. */
  reset(): Promise<void>;
  /** Runs `tokens` at positions pos.. and returns the greedy next token after the last of them. */
  feed(tokens: Int32Array, pos: number): Promise<number>;
  /** Bytes the KV cache holds now. */
  kvBytes(): number;
  /** The engine's own cumulative decode counters (llama.cpp's eval timer), or null when it keeps none. */
  evalCounters(): Promise<EvalCounters | null>;
}

export interface EvalCounters {
  readonly runs: number;
  readonly milliseconds: number;
}

export interface SweepResult {
  readonly prefillTokensPerSecond: number;
  readonly prefillSamples: readonly number[];
  readonly nextTokenAfterPrefill: number;
  readonly points: readonly ContextPoint[];
}

/** Token ids below this are <unk>, <s>, </s> and the 256 byte pieces of a llama SentencePiece vocabulary. */
const FIRST_ORDINARY_TOKEN = 259;
const BOS_TOKEN = 1;

/** The i-th prompt token: BOS, then ordinary tokens spread over the vocabulary by a large prime stride. */
export function promptToken(index: number, vocabSize: number): number {
  return index === 0 ? BOS_TOKEN : FIRST_ORDINARY_TOKEN + ((index * 7919) % (vocabSize - FIRST_ORDINARY_TOKEN));
}

/** The token fed at the step-th decode step (fixed, so both engines see the same ids whatever they predict). */
export function decodeToken(step: number, vocabSize: number): number {
  return FIRST_ORDINARY_TOKEN + ((step * 104729) % (vocabSize - FIRST_ORDINARY_TOKEN));
}

/** Positions a context must hold for the whole sweep. */
export function sweepCapacity(shape: SweepShape): number {
  const last = shape.contexts[shape.contexts.length - 1] ?? shape.prefillTokens;
  return Math.max(shape.prefillTokens, last) + shape.repeats * shape.decodeSteps;
}

/** Checks a sweep before any child starts: each length must leave room for the decode blocks before the next. */
export function validateSweep(shape: SweepShape): void {
  const positive = (field: string, value: number): void => {
    if (!Number.isInteger(value) || value < 1) throw new ConfigError(`sweep.${field}`, "a positive integer", value);
  };
  positive("prefillTokens", shape.prefillTokens);
  positive("decodeSteps", shape.decodeSteps);
  positive("repeats", shape.repeats);
  if (shape.contexts.length === 0) throw new ConfigError("sweep.contexts", "at least one context length", []);
  let next = shape.prefillTokens;
  for (const length of shape.contexts) {
    positive("contexts", length);
    if (length < next) {
      throw new ConfigError("sweep.contexts", `ascending, each >= the previous + repeats*decodeSteps (here ${next})`, length);
    }
    next = length + shape.repeats * shape.decodeSteps;
  }
}

export async function runSweep(session: SessionUnderTest, shape: SweepShape): Promise<SweepResult> {
  validateSweep(shape);
  const vocab = session.vocabSize;
  if (vocab <= FIRST_ORDINARY_TOKEN + 1) throw new ConfigError("vocabSize", `more than ${FIRST_ORDINARY_TOKEN + 1}`, vocab);
  const prompt = promptTokens(0, shape.prefillTokens, vocab);
  const prefillSamples: number[] = [];
  let nextTokenAfterPrefill = -1;
  for (let rep = 0; rep < shape.repeats; rep++) {
    await session.reset();
    const seconds = await timed(async () => {
      nextTokenAfterPrefill = await session.feed(prompt, 0);
    });
    prefillSamples.push(shape.prefillTokens / seconds);
  }

  const points: ContextPoint[] = [];
  let pos = shape.prefillTokens;
  let step = 0;
  const token = new Int32Array(1);
  for (const length of shape.contexts) {
    const growFrom = pos;
    const growSeconds = length > pos ? await timed(() => session.feed(promptTokens(growFrom, length, vocab), growFrom)) : 0;
    pos = Math.max(pos, length);
    const decodeSamples: number[] = [];
    const internalSamples: number[] = [];
    for (let rep = 0; rep < shape.repeats; rep++) {
      const before = await session.evalCounters();
      const seconds = await timed(async () => {
        for (let i = 0; i < shape.decodeSteps; i++) {
          token[0] = decodeToken(step++, vocab);
          await session.feed(token, pos++);
        }
      });
      decodeSamples.push(shape.decodeSteps / seconds);
      const after = await session.evalCounters();
      if (before && after && after.milliseconds > before.milliseconds) {
        internalSamples.push((after.runs - before.runs) / ((after.milliseconds - before.milliseconds) / 1000));
      }
    }
    points.push({
      contextTokens: length,
      decodeTokensPerSecond: median(decodeSamples),
      decodeSamples,
      internalDecodeTokensPerSecond: internalSamples.length > 0 ? median(internalSamples) : null,
      growSeconds,
      kvBytes: session.kvBytes(),
    });
  }
  return { prefillTokensPerSecond: median(prefillSamples), prefillSamples, nextTokenAfterPrefill, points };
}

/** Prompt tokens for positions [from, to). */
function promptTokens(from: number, to: number, vocabSize: number): Int32Array {
  return Int32Array.from({ length: to - from }, (_, i) => promptToken(from + i, vocabSize));
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}
