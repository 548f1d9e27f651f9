import { Engine } from "../engine/Engine.js";
import { Session } from "../engine/Session.js";
import { weightBytesPerToken } from "../model/weights.js";
import { measureCopyBandwidth } from "./bandwidth.js";
import { emit, median } from "./timing.js";

/**
 * Prefill and decode speed of one model at one thread count, with the memory-bandwidth floor of decode beside it:
 * boundTokensPerSecond = measured copy bandwidth / bytes of weights read per token.
 */
export async function benchEngine(label: string, modelPath: string, tokenizerPath: string | undefined, threads: number, promptTokens: number, decodeTokens: number): Promise<void> {
  const engine = await Engine.load(modelPath, tokenizerPath, threads);
  try {
    const { vocabSize } = engine.config;
    // a deterministic prompt of ordinary tokens (ids above the byte pieces)
    const prompt = Int32Array.from({ length: promptTokens }, (_, i) => (i === 0 ? 1 : 259 + ((i * 7919) % (vocabSize - 259))));
    const prefill: number[] = [];
    const decode: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const session = Session.open(engine, { kind: "fp32" }, promptTokens + decodeTokens + 1);
      const t0 = performance.now();
      session.prefill(prompt);
      const t1 = performance.now();
      for (let i = 0; i < decodeTokens; i++) session.step(259 + ((i * 104729) % (vocabSize - 259)));
      const t2 = performance.now();
      session.dispose();
      prefill.push(promptTokens / ((t1 - t0) / 1000));
      decode.push(decodeTokens / ((t2 - t1) / 1000));
    }
    const bandwidth = measureCopyBandwidth(engine.compute);
    const bytesPerToken = weightBytesPerToken(engine.weightsForAccounting);
    const bound = bandwidth / bytesPerToken;
    const decodeTps = median(decode);
    emit({
      bench: "engine",
      model: label,
      weightType: engine.weightsForAccounting.layers[0]!.wq.type,
      threads,
      promptTokens,
      decodeTokens,
      prefillTokensPerSecond: round(median(prefill)),
      decodeTokensPerSecond: round(decodeTps),
      weightBytesPerToken: bytesPerToken,
      copyBandwidthGBps: round(bandwidth / 1e9),
      decodeBoundTokensPerSecond: round(bound),
      decodeFractionOfBound: round(decodeTps / bound),
    });
  } finally {
    engine.dispose();
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
