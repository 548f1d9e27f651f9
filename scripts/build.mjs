// Build: TypeScript (tsc), the AssemblyScript kernels (asc, all files of src/kernels/assembly in one .wasm over an
// imported shared memory) and the browser bundles (esbuild, from tsc's output; see browserBundles.mjs). Run by
// `npm test`, `npm start` and `npm run bench`, so a fresh clone needs nothing else.
import { execFileSync } from "node:child_process";
import { readdirSync, mkdirSync, statSync, existsSync, chmodSync, rmSync } from "node:fs";
import { buildBrowserBundles } from "./browserBundles.mjs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const asmDir = join(root, "src", "kernels", "assembly");
const wasmOut = join(root, "dist", "kernels.wasm");

/** Newest modification time of any file below `dir` (helpers in assembly/lib count too). */
function newestMtime(dir) {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newestMtime(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
    ),
  );
}

/** Runs a build tool; on failure its own output has already said why, so exit without a stack trace. */
function run(tool, args) {
  try {
    execFileSync(bin(tool), args, { stdio: "inherit", cwd: root });
  } catch {
    console.error(`build: ${tool} failed`);
    process.exit(1);
  }
}

mkdirSync(join(root, "dist"), { recursive: true });
const sources = readdirSync(asmDir).filter((f) => f.endsWith(".ts")).sort().map((f) => join(asmDir, f));
if (!existsSync(wasmOut) || statSync(wasmOut).mtimeMs < newestMtime(asmDir)) {
  run("asc", [
    ...sources, "-o", wasmOut,
    "-O3", "--noAssert", "--runtime", "stub",
    "--importMemory", "--sharedMemory", "--initialMemory", "32", "--maximumMemory", "65536", "--noExportMemory",
    "--enable", "simd", "--enable", "threads",
  ]);
}
// tsc never deletes output: a test whose source was removed would otherwise keep running from dist/
for (const dir of ["src", "test"]) rmSync(join(root, "dist", dir), { recursive: true, force: true });
run("tsc", ["-p", join(root, "tsconfig.json")]);
// the `qaq` executable: npm marks it executable when it links a package, but a rebuild writes a fresh file
chmodSync(join(root, "dist", "src", "cli", "bin.js"), 0o755);
try {
  await buildBrowserBundles(root);
} catch (error) {
  // esbuild has printed what failed (e.g. a Node module imported on the browser's path)
  console.error(`build: browser bundle failed (${error instanceof Error ? error.message.split("\n")[0] : error})`);
  process.exit(1);
}
