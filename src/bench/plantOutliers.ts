/**
 * A copy of a llama2.c checkpoint with planted outlier channels in its keys and values, as large LLMs have them
 * (a few channels 10-30x larger than the rest), while computing the same function:
 *   keys    per layer and KV head, `keyPairs` rotary pairs (2i, 2i+1) of wk rows are multiplied by s ∈ [lo, hi] and the
 *           matching wq rows of every query head sharing the KV head divided by s, so q·k is unchanged (a whole
 *           pair, because RoPE mixes the two channels of a pair);
 *   values  per layer and KV head, `valueChannels` wv rows are multiplied by s and the wo columns that read that
 *           value channel (in every query head sharing the KV head) divided by s, so wo·(attention·V) is unchanged.
 * The fp32 model's outputs stay the same up to float32 rounding; only what a KV cache stores changes. Channels and
 * factors are drawn from a seeded generator. Reads with the project's llama2.c reader, writes with AtomicFileWriter.
 *
 *   node dist/src/bench/plantOutliers.js IN.bin OUT.bin [--seed 1] [--key-pairs 2] [--value-channels 2] [--lo 10] [--hi 30]
 */
import { readFile } from "node:fs/promises";
import { parseLlama2cCheckpoint } from "../format/llama2c.js";
import { TENSOR_NAMES, type TensorView } from "../format/tensor.js";
import { AtomicFileWriter } from "../platform/node/AtomicFileWriter.js";
import { Rng } from "../util/rng.js";

export interface PlantOptions {
  readonly seed: number;
  readonly keyPairs: number;
  readonly valueChannels: number;
  readonly lo: number;
  readonly hi: number;
}

export interface PlantedChannel {
  readonly layer: number;
  readonly kvHead: number;
  readonly part: "keys" | "values";
  /** channel within the head */
  readonly channel: number;
  readonly scale: number;
}

/** Scales the checkpoint's bytes in place (a copy the caller owns) and returns what was planted. */
export function plantOutlierChannels(bytes: Uint8Array, file: string, options: PlantOptions): PlantedChannel[] {
  const { config, tensors } = parseLlama2cCheckpoint(bytes, file);
  const { nLayers, nHeads, nKvHeads, headDim: D, dim } = config;
  const nRep = nHeads / nKvHeads;
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const f32 = (view: TensorView) => new Float32Array(view.data.buffer.slice(view.data.byteOffset, view.data.byteOffset + view.data.byteLength));
  const rng = new Rng(options.seed);
  const factor = () => options.lo + (options.hi - options.lo) * rng.next();
  const planted: PlantedChannel[] = [];
  for (let layer = 0; layer < nLayers; layer++) {
    const views = { wq: byName.get(TENSOR_NAMES.wq(layer))!, wk: byName.get(TENSOR_NAMES.wk(layer))!, wv: byName.get(TENSOR_NAMES.wv(layer))!, wo: byName.get(TENSOR_NAMES.wo(layer))! };
    const wq = f32(views.wq);
    const wk = f32(views.wk);
    const wv = f32(views.wv);
    const wo = f32(views.wo);
    const scaleRow = (m: Float32Array, row: number, s: number) => {
      for (let c = 0; c < dim; c++) m[row * dim + c]! *= s;
    };
    for (let g = 0; g < nKvHeads; g++) {
      for (const pair of pick(rng, D / 2, options.keyPairs)) {
        const s = factor();
        for (const channel of [2 * pair, 2 * pair + 1]) {
          scaleRow(wk, g * D + channel, s);
          for (let r = 0; r < nRep; r++) scaleRow(wq, (g * nRep + r) * D + channel, 1 / s);
          planted.push({ layer, kvHead: g, part: "keys", channel, scale: s });
        }
      }
      for (const channel of pick(rng, D, options.valueChannels)) {
        const s = factor();
        scaleRow(wv, g * D + channel, s);
        // wo is [dim rows, dim cols]; column (query head h, channel) reads value channel `channel` of h's KV head
        for (let r = 0; r < nRep; r++) for (let row = 0; row < dim; row++) wo[row * dim + (g * nRep + r) * D + channel]! /= s;
        planted.push({ layer, kvHead: g, part: "values", channel, scale: s });
      }
    }
    for (const [name, data] of [["wq", wq], ["wk", wk], ["wv", wv], ["wo", wo]] as const) {
      views[name].data.set(new Uint8Array(data.buffer));
    }
  }
  return planted;
}

/** `count` distinct integers below n, seeded. */
function pick(rng: Rng, n: number, count: number): number[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, n)) chosen.add(Math.floor(rng.next() * n));
  return [...chosen].sort((a, b) => a - b);
}

async function main(argv: readonly string[]): Promise<void> {
  const [input, output, ...rest] = argv;
  if (input === undefined || output === undefined) throw new Error("usage: plantOutliers IN.bin OUT.bin [--seed N] [--key-pairs N] [--value-channels N] [--lo X] [--hi X]");
  const flag = (name: string, fallback: number) => {
    const at = rest.indexOf(`--${name}`);
    const value = at < 0 ? fallback : Number(rest[at + 1]);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name}: a number ≥ 0, got ${rest[at + 1]}`);
    return value;
  };
  const options = { seed: flag("seed", 1), keyPairs: flag("key-pairs", 2), valueChannels: flag("value-channels", 2), lo: flag("lo", 10), hi: flag("hi", 30) };
  const bytes = new Uint8Array(await readFile(input));
  const planted = plantOutlierChannels(bytes, input, options);
  await AtomicFileWriter.writeFile(output, async (writer) => writer.write(bytes));
  process.stdout.write(`${JSON.stringify({ input, output, ...options, planted })}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`plantOutliers: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
