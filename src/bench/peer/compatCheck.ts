import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { Engine } from "../../engine/Engine.js";
import { Session } from "../../engine/Session.js";
import { argmax } from "../../generate/sampler.js";
import { parseGguf } from "../../format/gguf/parseGguf.js";
import { GGML_TYPES } from "../../format/gguf/ggmlTypes.js";
import { UsageError } from "../../util/errors.js";
import { importLlamaCpp } from "./llamaCppApi.js";
import { ensurePeerInstalled, peerDirectory } from "./peerInstall.js";

/**
 * `node dist/src/bench/peer/compatCheck.js MODEL.gguf [--steps 64] [--prompt TEXT] [--expect-out FILE]`: runs the same
 * GGUF file in this engine and in llama.cpp (node-llama-cpp, installed on demand like bench:peer), greedy from BOS +
 * the prompt for `steps` tokens, each engine following its own argmax, and compares: the same tokens at every step,
 * and the largest |p_ours - p_llama.cpp| over the whole vocabulary at every step (softmax of each engine's logits in
 * float64). Both run on 1 thread with an f32 KV cache, so the weights (and the activation quantization of each
 * engine) are the difference. One JSON line on stdout. --expect-out writes llama.cpp's side as a stored expectation
 * (ids and the top-8 probabilities per step, the file's sha256 and this command) for the peer-free test.
 */
const TOP = 8;

interface Run {
  readonly ids: number[];
  /** [step][vocab] probabilities of the next token, after the prompt and after each generated token */
  readonly probs: Float64Array[];
}

function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

async function runOurs(path: string, prompt: readonly number[], steps: number): Promise<Run> {
  const engine = await Engine.load(path, undefined, 1);
  try {
    const session = Session.open(engine, { kind: "fp32" });
    const ids: number[] = [];
    const probs: Float64Array[] = [];
    let logits = session.prefill(Int32Array.from(prompt));
    for (let step = 0; step < steps; step++) {
      probs.push(softmax(logits));
      const next = argmax(logits);
      ids.push(next);
      if (step + 1 < steps) logits = session.step(next);
    }
    session.dispose();
    return { ids, probs };
  } finally {
    engine.dispose();
  }
}

type LogitsSequence = {
  controlledEvaluate(input: readonly (number | [number, { generateNext: { token: true; logits: true; options: { temperature: 0 } } }])[]):
    Promise<ReadonlyArray<{ next?: { token?: number | null; logits?: Map<number, number> } } | undefined>>;
};

async function runLlamaCpp(path: string, prompt: readonly number[], steps: number, vocab: number): Promise<{ run: Run; version: string }> {
  const install = ensurePeerInstalled(peerDirectory());
  const peer = await importLlamaCpp(install.dir);
  const llama = await peer.module.getLlama({
    gpu: false, build: "never", usePrebuiltBinaries: true, skipDownload: true, progressLogs: false, logLevel: "info",
    logger: () => {}, maxThreads: 1,
  });
  try {
    const model = await llama.loadModel({ modelPath: path, gpuLayers: 0, useMmap: true });
    const context = await model.createContext({
      contextSize: prompt.length + steps + 8, threads: { ideal: 1, min: 1 }, flashAttention: false,
      experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32", performanceTracking: true,
      failedCreationRemedy: false, ignoreMemorySafetyChecks: true,
    });
    const sequence = context.getSequence() as unknown as LogitsSequence;
    const generate = { generateNext: { token: true, logits: true, options: { temperature: 0 } } } as const;
    const ids: number[] = [];
    const probs: Float64Array[] = [];
    let input: (number | [number, typeof generate])[] = [...prompt.slice(0, -1), [prompt[prompt.length - 1]!, generate]];
    for (let step = 0; step < steps; step++) {
      const output = await sequence.controlledEvaluate(input);
      const next = output[input.length - 1]?.next;
      if (next?.logits === undefined || next.token == null) throw new UsageError("llama.cpp returned no token or logits");
      const logits = new Float64Array(vocab);
      for (const [token, value] of next.logits) logits[token] = value;
      probs.push(softmax(logits));
      ids.push(next.token);
      input = [[next.token, generate]];
    }
    await context.dispose();
    await model.dispose();
    return { run: { ids, probs }, version: peer.version };
  } finally {
    await llama.dispose();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const path = args[0];
  if (path === undefined || path.startsWith("--")) throw new UsageError("compatCheck: give a GGUF model path first");
  const steps = Number(flag("steps") ?? 64);
  const promptText = flag("prompt") ?? "Once upon a time";
  const expectOut = flag("expect-out");

  const bytes = readFileSync(path);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const types = [...new Set(parseGguf(bytes, path).tensors.map((t) => GGML_TYPES[t.type].name))];
  const tokenizerEngine = await Engine.load(path, undefined, 1);
  const prompt = Array.from(tokenizerEngine.tokenizer.encode(promptText, { addBos: true }));
  const vocab = tokenizerEngine.config.vocabSize;
  tokenizerEngine.dispose();

  const peer = await runLlamaCpp(path, prompt, steps, vocab);
  const ours = await runOurs(path, prompt, steps);
  let firstDifferent = -1;
  let maxProbDiff = 0;
  for (let s = 0; s < steps; s++) {
    if (firstDifferent < 0 && ours.ids[s] !== peer.run.ids[s]) firstDifferent = s;
    // probabilities are compared while both engines have seen the same tokens
    if (firstDifferent >= 0 && s > firstDifferent) break;
    for (let t = 0; t < vocab; t++) maxProbDiff = Math.max(maxProbDiff, Math.abs(ours.probs[s]![t]! - peer.run.probs[s]![t]!));
  }
  const command = `node dist/src/bench/peer/compatCheck.js ${args.join(" ")}`;
  process.stdout.write(JSON.stringify({
    model: basename(path), sha256, weightTypes: types, prompt: promptText, promptIds: prompt, steps,
    peer: `node-llama-cpp ${peer.version}`, sameTokens: firstDifferent < 0, firstDifferentStep: firstDifferent,
    maxProbDiff, ours: ours.ids, llamaCpp: peer.run.ids,
  }) + "\n");
  if (expectOut !== undefined) {
    const top = peer.run.probs.map((p) =>
      Array.from(p.keys()).sort((a, b) => p[b]! - p[a]!).slice(0, TOP).map((t) => [t, Number(p[t]!.toFixed(7))]));
    writeFileSync(expectOut, JSON.stringify({
      made: command, peer: `node-llama-cpp ${peer.version}`, model: basename(path), sha256, prompt: promptText,
      promptIds: prompt, ids: peer.run.ids, top,
    }) + "\n");
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`compatCheck: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
