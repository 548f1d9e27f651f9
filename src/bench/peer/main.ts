import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../util/errors.js";
import { ensurePeerInstalled, peerDirectory } from "./peerInstall.js";
import { DEFAULT_SUITES, PEER_SUITES } from "./plan.js";
import { runSuite, type ModelResults } from "./runSuite.js";
import { writePeerSection } from "./report.js";

/**
 * `npm run bench:peer [-- [--cpu-prof] [suite ...]]`: this engine and llama.cpp side by side on the same GGUF files
 * (suites: plan.ts; without names, DEFAULT_SUITES; `long` adds 16K-token contexts). JSON lines on stdout (one per
 * job), progress on stderr; the comparison tables are written to their section of docs/PERFORMANCE.md.
 * --cpu-prof makes every child write a V8 CPU profile into <tmpdir>/qaq-peer-profiles/.
 */
const JOB_TIMEOUT_SECONDS = 900;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const cpuProf = args.includes("--cpu-prof");
  const names = args.filter((a) => a !== "--cpu-prof");
  for (const name of names) {
    if (name.startsWith("-")) throw new UsageError(`bench:peer: unknown flag ${name}; flags: --cpu-prof`);
    if (!PEER_SUITES.some((s) => s.name === name)) {
      throw new UsageError(`bench:peer: unknown suite "${name}"; suites: ${PEER_SUITES.map((s) => s.name).join(", ")}`);
    }
  }
  const wanted = names.length > 0 ? names : DEFAULT_SUITES;
  const suites = PEER_SUITES.filter((s) => wanted.includes(s.name));

  const install = ensurePeerInstalled(peerDirectory());
  process.stderr.write(`bench:peer: peer ${install.packages.join(" ")} in ${install.dir}${install.installedNow ? " (installed now)" : ""}\n`);
  const profileDir = join(tmpdir(), "qaq-peer-profiles");
  if (cpuProf) mkdirSync(profileDir, { recursive: true });
  const context = {
    peerDir: install.dir,
    childExecArgv: cpuProf ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [],
    jobTimeoutSeconds: JOB_TIMEOUT_SECONDS,
  };

  const started = performance.now();
  const results: ModelResults[] = [];
  for (const suite of suites) {
    process.stderr.write(`bench:peer: suite ${suite.name}\n`);
    results.push(...(await runSuite(suite, context)));
  }
  const minutes = (performance.now() - started) / 60000;
  const docPath = writePeerSection(results, { suites: suites.map((s) => s.name), minutes, peerPackages: install.packages });
  process.stderr.write(`bench:peer: done in ${minutes.toFixed(1)} min; tables written to ${docPath}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:peer: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
