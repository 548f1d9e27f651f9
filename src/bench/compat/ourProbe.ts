/**
 * Runs a GGUF through this engine for the compatibility check: the model file, weights and forward pass as the
 * Engine builds them, but no tokenizer (token ids come from the check), an fp32 KV cache (the reference cache).
 * `adjust` lets a test change the config, to show that a wrong option is caught.
 */
import { Compute } from "../../kernels/Compute.js";
import { loadModelFile } from "../../format/modelFile.js";
import { loadWeights, freeWeights } from "../../model/weights.js";
import { createForwardState, freeForwardState } from "../../model/state.js";
import { LlamaModel } from "../../model/llama.js";
import type { ModelConfig } from "../../model/config.js";
import { createCache } from "../../cache/createCache.js";
import { Session } from "../../engine/Session.js";
import { softmax64, topTwo, type ProbeInput, type ProbeResult } from "./probe.js";

export async function probeOurs(
  path: string,
  input: ProbeInput,
  threads: number,
  adjust: (config: ModelConfig) => ModelConfig = (c) => c,
): Promise<ProbeResult> {
  const compute = await Compute.create(threads);
  try {
    const file = await loadModelFile(path);
    const config = adjust(file.config);
    const weights = loadWeights(compute, file);
    const state = createForwardState(compute, config);
    const model = new LlamaModel(config, compute, weights, state);
    const newCache = () => createCache(compute, { nLayers: config.nLayers, nKvHeads: config.nKvHeads, headDim: config.headDim, maxTokens: config.seqLen }, { kind: "fp32" });
    try {
      const probed = { config, model };
      let cache = newCache();
      // [n, vocab] logits of every position of the text, in one forward call
      const textIds = Int32Array.from(input.textTokens);
      const probabilities: ReturnType<typeof softmax64>[] = [];
      new Session(probed, cache).score(textIds, textIds.length, (_, row) => probabilities.push(softmax64(row)));
      cache.dispose();

      cache = newCache();
      const session = new Session(probed, cache);
      const greedy: number[] = [];
      const greedyMargins: number[] = [];
      let logits = session.prefill(Int32Array.from(input.greedyPrompt));
      for (let step = 0; step < input.greedySteps; step++) {
        const { best, margin } = topTwo(logits);
        greedy.push(best);
        greedyMargins.push(margin);
        if (step + 1 < input.greedySteps) logits = session.step(best);
      }
      cache.dispose();
      return { probabilities, greedy, greedyMargins };
    } finally {
      freeForwardState(compute, state);
      freeWeights(compute, weights);
    }
  } finally {
    compute.dispose();
  }
}
