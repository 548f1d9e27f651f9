import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { importSpecifiers, isNodeBuiltin, nodeImportsReachable } from "../support/importGraph.js";

// The core imports no Node module (issue 16): platform code sits at the edges (src/platform/node, cli, server, bench,
// and eval's harness of result files and worker processes), reached only through "#platform", which package.json
// resolves to the browser adapter under the "browser" condition. These tests read the compiled files in dist/src.

const root = fileURLToPath(new URL("../../../", import.meta.url));
const distSrc = join(root, "dist", "src");

/** Folders of the core: every file below them must be free of Node imports. */
const CORE_FOLDERS = ["util", "quant", "kernels", "format", "model", "tokenizer", "cache", "engine", "generate", "chat", "platform/browser"];
/** kernels/bench is a benchmark script (it reads argv), not part of the engine. */
const NOT_CORE = ["kernels/bench"];

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return jsFiles(path);
    return entry.name.endsWith(".js") ? [path] : [];
  });
}

test("the scanner sees Node imports in every spelling (so the checks below can fail)", () => {
  const planted = [
    'import { readFile } from "node:fs/promises";',
    "import { Worker } from 'worker_threads';",
    'export { tmpdir } from "os";',
    'import "path";',
    'const fs = await import("fs");',
  ].join("\n");
  const specifiers = importSpecifiers(planted);
  assert.deepEqual(specifiers.sort(), ["fs", "node:fs/promises", "os", "path", "worker_threads"]);
  assert.ok(specifiers.every(isNodeBuiltin));
  assert.equal(isNodeBuiltin("./ThreadPool.js"), false);
  assert.equal(isNodeBuiltin("#platform"), false);
  assert.equal(isNodeBuiltin("@huggingface/jinja"), false);
});

test("no module of the core folders imports a Node module", () => {
  const offenders: string[] = [];
  let checked = 0;
  for (const folder of CORE_FOLDERS) {
    for (const file of jsFiles(join(distSrc, folder))) {
      const name = relative(distSrc, file);
      if (NOT_CORE.some((prefix) => name.startsWith(prefix + "/"))) continue;
      checked++;
      for (const specifier of importSpecifiers(readFileSync(file, "utf8"))) if (isNodeBuiltin(specifier)) offenders.push(`${name} imports ${specifier}`);
    }
  }
  assert.ok(checked > 100, `only ${checked} core modules found: is dist/src built?`);
  assert.deepEqual(offenders, [], "move platform code behind #platform (src/platform/Platform.ts)");
});

test("the browser bundles' entries reach no Node module through relative imports or #platform", () => {
  const entries = ["index.js", "engineWorker.js", "browserPoolWorker.js", "QaqClient.js", "demo/demoPage.js"].map((f) => join(distSrc, "platform", "browser", f));
  const { violations, visited } = nodeImportsReachable(entries, { "#platform": join(distSrc, "platform", "browser", "browserPlatform.js") }, distSrc);
  assert.deepEqual(violations.map((v) => `${v.specifier} via ${v.path.join(" -> ")}`), []);
  // the walk really went through the engine: the kernels, the QAQ cache and the model are on the path
  for (const module of ["kernels/ThreadPool.js", "cache/qaq/QaqCache.js", "model/llama.js", "platform/browser/browserPlatform.js"]) {
    assert.ok(visited.includes(module), `${module} reached from the browser entries`);
  }
  assert.ok(!visited.some((f) => f.startsWith("platform/node/")), "the browser graph never reaches platform/node");
});

test("#platform resolves to the Node adapter under Node and to the browser adapter under the browser condition", () => {
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { imports: Record<string, Record<string, string>> };
  const platform = manifest.imports["#platform"]!;
  assert.equal(platform["browser"], "./dist/src/platform/browser/browserPlatform.js");
  assert.equal(platform["default"], "./dist/src/platform/node/nodePlatform.js");
  assert.equal(import.meta.resolve("#platform"), new URL("dist/src/platform/node/nodePlatform.js", `file://${root}`).href);
});
