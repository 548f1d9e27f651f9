// The browser build (dist/browser/, a complete static site): esbuild bundles tsc's output (dist/src) as ES modules
// for browsers. The "browser" condition makes "#platform" resolve to platform/browser/browserPlatform.js, so a Node
// module on the browser's path fails this step. Next to the bundles: kernels.wasm, the demo page and the bundled
// model (models/stories260K), so dist/browser can be served as it is.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

/** bundle name -> entry module (compiled by tsc) */
const ENTRIES = {
  "qaq": "dist/src/platform/browser/index.js",
  "qaq-engine-worker": "dist/src/platform/browser/engineWorker.js",
  "qaq-pool-worker": "dist/src/platform/browser/browserPoolWorker.js",
  "qaq-client": "dist/src/platform/browser/QaqClient.js",
  "demo": "dist/src/platform/browser/demo/demoPage.js",
};

/** static files of the demo: source -> name in dist/browser */
const STATIC_FILES = {
  "src/platform/browser/demo/index.html": "index.html",
  "src/platform/browser/demo/demo.css": "demo.css",
  "dist/kernels.wasm": "kernels.wasm",
  "models/stories260K/stories260K.bin": "models/stories260K/stories260K.bin",
  "models/stories260K/tok512.bin": "models/stories260K/tok512.bin",
};

export async function buildBrowserBundles(root) {
  const out = join(root, "dist", "browser");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, "models", "stories260K"), { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, entry]) => [name, join(root, entry)])),
    outdir: out,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    // error classes keep their names (UnsupportedError, FileFormatError): callers and messages rely on them
    keepNames: true,
    sourcemap: true,
    logLevel: "warning",
    metafile: false,
  });
  for (const [source, name] of Object.entries(STATIC_FILES)) copyFileSync(join(root, source), join(out, name));
}
