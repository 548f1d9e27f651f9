/**
 * A fuzz worker process (forked by fuzzRunner.ts): argv = corpus folder, run seed. It answers each { index } with the
 * case's outcome and how much the process's peak resident memory grew while running it; the parent owns the clock
 * (a case that does not answer within the timeout is a hang, and this process is killed).
 */
import { resourceUsage } from "node:process";
import { loadCorpus } from "./fuzzCorpus.js";
import { makeCase } from "./fuzzCase.js";
import { runCase, type CaseOutcome } from "./fuzzTarget.js";

export interface WorkerReply {
  readonly index: number;
  readonly file: string;
  readonly mutation: string;
  readonly outcome: CaseOutcome;
  /** Growth of the process's peak RSS during the case (bytes; 0 unless the case set a new peak). */
  readonly peakGrowthBytes: number;
  readonly ms: number;
}

const [corpusDir, seedText] = process.argv.slice(2);
const corpus = loadCorpus(corpusDir!);
const runSeed = Number(seedText);

process.on("message", (message: { index: number }) => {
  void answer(message.index);
});
process.send!({ ready: true });

async function answer(index: number): Promise<void> {
  const fuzzCase = makeCase(corpus, runSeed, index);
  const peakBefore = resourceUsage().maxRSS;
  const started = performance.now();
  const outcome = await runCase(fuzzCase, corpusDir!);
  const ms = performance.now() - started;
  const peakGrowthBytes = (resourceUsage().maxRSS - peakBefore) * 1024;
  const reply: WorkerReply = { index, file: fuzzCase.seed.name, mutation: fuzzCase.label, outcome, peakGrowthBytes, ms };
  process.send!(reply);
}
