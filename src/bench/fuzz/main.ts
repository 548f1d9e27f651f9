/**
 * `npm run fuzz -- [--count N] [--seed S] [--first I] [--jobs J] [--timeout-ms T]`: mutates the corpus of
 * fuzzCorpus.ts N times and runs every file through inspect, load and a one-token forward (fuzzTarget.ts) in worker
 * processes. JSON lines on stdout: one per failure, then a summary; progress on stderr. Exit 1 when anything failed.
 * `--case I` reruns one case in this process and prints its file, mutation and outcome (with the stack, if any).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ProgressBar } from "../../eval/sweep/ProgressBar.js";
import { loadCorpus, prepareCorpus } from "./fuzzCorpus.js";
import { makeCase } from "./fuzzCase.js";
import { runFuzz } from "./fuzzRunner.js";
import { runCase } from "./fuzzTarget.js";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "1000" },
    seed: { type: "string", default: "1" },
    first: { type: "string", default: "0" },
    jobs: { type: "string", default: "2" },
    "timeout-ms": { type: "string", default: "1000" },
    case: { type: "string" },
  },
});
const integer = (name: string, text: string): number => {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    process.stderr.write(`fuzz: --${name} needs an integer >= 0, got "${text}"\n`);
    process.exit(2);
  }
  return value;
};
const seed = integer("seed", values.seed);

if (values.case !== undefined) {
  const dir = mkdtempSync(join(tmpdir(), "qaq-fuzz-"));
  try {
    await prepareCorpus(dir);
    const fuzzCase = makeCase(loadCorpus(dir), seed, integer("case", values.case));
    const outcome = await runCase(fuzzCase, dir);
    process.stdout.write(JSON.stringify({ seed, case: fuzzCase.index, file: fuzzCase.seed.name, mutation: fuzzCase.label, ...outcome }) + "\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  const count = integer("count", values.count);
  const bar = new ProgressBar((t) => process.stderr.write(t), process.stderr.isTTY === true, count, count);
  const summary = await runFuzz({
    seed,
    count,
    first: integer("first", values.first),
    jobs: Math.max(1, integer("jobs", values.jobs)),
    timeoutMs: integer("timeout-ms", values["timeout-ms"]),
    onCase: () => bar.advance(1, `seed ${seed}`),
    onFailure: (failure) => {
      bar.note(`fuzz: ${failure.kind} at case ${failure.index}`);
      process.stdout.write(JSON.stringify({ event: "failure", ...failure }) + "\n");
    },
  });
  bar.finish();
  const { failures, ...rest } = summary;
  process.stdout.write(JSON.stringify({ event: "summary", ...rest, failures: failures.length }) + "\n");
  process.exitCode = failures.length > 0 ? 1 : 0;
}
