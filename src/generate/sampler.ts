import { Rng } from "../util/rng.js";
import { ConfigError } from "../util/errors.js";

/**
 * Choosing the next token from logits. Greedy is argmax; otherwise softmax at a temperature, optionally cut to the
 * k most likely tokens and then to the smallest set whose probability reaches p (nucleus), sampled with a seeded RNG.
 */
export type SamplerConfig =
  | { kind: "greedy" }
  | { kind: "sample"; temperature: number; topK: number; topP: number; seed: number };

export function validateSampler(config: SamplerConfig): SamplerConfig {
  if (config.kind === "greedy") return config;
  if (!(config.temperature > 0) || config.temperature > 100) throw new ConfigError("temperature", "> 0 and <= 100 (0 means greedy)", config.temperature);
  if (!Number.isInteger(config.topK) || config.topK < 0) throw new ConfigError("top-k", "an integer >= 0 (0 = no limit)", config.topK);
  if (!(config.topP > 0 && config.topP <= 1)) throw new ConfigError("top-p", "in (0, 1]", config.topP);
  if (!Number.isInteger(config.seed) || config.seed < 0) throw new ConfigError("seed", "a non-negative integer", config.seed);
  return config;
}

export class Sampler {
  private readonly rng: Rng | undefined;

  constructor(readonly config: SamplerConfig) {
    validateSampler(config);
    this.rng = config.kind === "sample" ? new Rng(config.seed) : undefined;
  }

  sample(logits: Float32Array): number {
    if (this.config.kind === "greedy") return argmax(logits);
    const { temperature, topK, topP } = this.config;
    // candidates sorted by logit, cut to top-k
    let order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]!);
    if (topK > 0 && topK < order.length) order = order.slice(0, topK);
    const maxLogit = logits[order[0]!]!;
    const weights = order.map((id) => Math.exp((logits[id]! - maxLogit) / temperature));
    const total = weights.reduce((a, b) => a + b, 0);
    // nucleus: the smallest prefix whose probability mass reaches topP
    let keep = order.length;
    let mass = 0;
    for (let i = 0; i < order.length; i++) {
      mass += weights[i]! / total;
      if (mass >= topP) {
        keep = i + 1;
        break;
      }
    }
    const kept = weights.slice(0, keep);
    const keptTotal = kept.reduce((a, b) => a + b, 0);
    let r = this.rng!.next() * keptTotal;
    for (let i = 0; i < keep; i++) {
      r -= kept[i]!;
      if (r < 0) return order[i]!;
    }
    return order[keep - 1]!;
  }
}

/** Index of the largest value (the first one on ties). */
export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
