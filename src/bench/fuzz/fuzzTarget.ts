/**
 * What the fuzzer does with one mutated file, as a user's command would: a model file goes through `qaq inspect`'s
 * header parse, the whole-file parse, a load into an engine (one thread) and a one-token forward with greedy sampling; a
 * tokenizer file is parsed, built, checked against the model's vocabulary and used to encode and decode a text.
 * The outcome is "ok", "typed" (a QaqError: the expected way to refuse a bad file) or "untyped" (anything else: a
 * defect). The memory allowance is what the file can make us allocate (see RELIABILITY.md).
 */
import { join } from "node:path";
import { Engine } from "../../engine/Engine.js";
import { Session } from "../../engine/Session.js";
import { parseModelFile } from "../../format/modelFile.js";
import { hasGgufMagic, parseGgufHeader } from "../../format/gguf/parseGguf.js";
import { checkTokenizerMatchesModel, tokenizerFromLlama2cBytes } from "../../tokenizer/loadTokenizer.js";
import { INITIAL_POSITIONS } from "../../model/state.js";
import { QaqError } from "../../util/errors.js";
import { CORPUS_TOKENIZER } from "./fuzzCorpus.js";
import type { FuzzCase } from "./fuzzCase.js";

export type OutcomeStatus = "ok" | "typed" | "untyped";

export interface CaseOutcome {
  readonly status: OutcomeStatus;
  /** The stage reached: inspect, load, forward, tokenizer. */
  readonly stage: string;
  /** QaqError code, or the error's class name for an untyped error. */
  readonly code: string;
  readonly message: string;
  /** Bytes this file may make the process allocate (memory check). */
  readonly allowanceBytes: number;
}

const SAMPLE_TEXT = "Once upon a time, a little girl named Lily found a shiny \u00e9toile \u2603 in the park.\n";
const TOKENIZER_VOCAB = 512;
const MiB = 1 << 20;

export async function runCase(fuzzCase: FuzzCase, corpusDir: string): Promise<CaseOutcome> {
  const name = `case-${fuzzCase.index}-${fuzzCase.seed.name}`;
  const bytes = fuzzCase.bytes;
  const stage = { name: "parse", allowance: 96 * MiB + 4 * bytes.length };
  try {
    if (fuzzCase.seed.kind === "tokenizer") {
      stage.name = "tokenizer";
      const tokenizer = tokenizerFromLlama2cBytes(bytes, name);
      checkTokenizerMatchesModel(tokenizer, TOKENIZER_VOCAB, name);
      tokenizer.decode(tokenizer.encode(SAMPLE_TEXT, { addBos: true }));
      return outcome("ok", stage, "ok", "");
    }
    stage.name = "inspect";
    // what `qaq inspect` parses (a GGUF's header alone), then the whole file as loading does
    if (hasGgufMagic(bytes)) parseGgufHeader(bytes, name);
    const file = parseModelFile(bytes, name);
    const { seqLen, headDim, nHeads, nKvHeads } = file.config;
    const declared = [...file.tensors.values()].reduce((sum, t) => sum + t.data.byteLength, 0);
    // the RoPE table and the scores scratch cover the positions in use (INITIAL_POSITIONS at first), not the context
    // the file declares: a huge declared context must not raise the allowance
    stage.allowance += 2 * declared + 4 * Math.min(seqLen, INITIAL_POSITIONS) * (2 * headDim + nHeads / nKvHeads);
    stage.name = "load";
    const tokenizer = fuzzCase.seed.kind === "llama2c" ? join(corpusDir, CORPUS_TOKENIZER) : undefined;
    const engine = await Engine.fromBytes(bytes, name, tokenizer, 1);
    try {
      stage.name = "forward";
      const session = Session.open(engine, { kind: "fp32" });
      try {
        const logits = session.step(engine.tokenizer.bosId);
        let best = 0;
        for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
        engine.tokenizer.decode([best]);
      } finally {
        session.dispose();
      }
    } finally {
      engine.dispose();
    }
    return outcome("ok", stage, "ok", "");
  } catch (error) {
    if (error instanceof QaqError) return outcome("typed", stage, error.code, error.message);
    const e = error instanceof Error ? error : new Error(String(error));
    return outcome("untyped", stage, e.name, `${e.message}\n${e.stack ?? ""}`);
  }
}

function outcome(status: OutcomeStatus, stage: { name: string; allowance: number }, code: string, message: string): CaseOutcome {
  return { status, stage: stage.name, code, message, allowanceBytes: stage.allowance };
}
