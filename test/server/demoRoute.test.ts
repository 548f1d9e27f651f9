import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Engine } from "../../src/engine/Engine.js";
import { QaqServer } from "../../src/server/QaqServer.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER, PROJECT_ROOT } from "../support/paths.js";

// qaq serve's /demo/ route: the built demo's files only, with the headers of cross-origin isolation.

let engine: Engine;
let server: QaqServer;
before(async () => {
  engine = await Engine.load(BUNDLED_MODEL, BUNDLED_TOKENIZER, 1);
  server = await QaqServer.start({ engine, kv: { kind: "fp32" }, port: 0 });
});
after(async () => {
  await server?.close();
  engine?.dispose();
});

test("/demo/ serves the page, its bundles, kernels.wasm and the model with COOP/COEP", { timeout: 30_000 }, async () => {
  const redirect = await fetch(`${server.url}/demo`, { redirect: "manual" });
  assert.equal(redirect.status, 308);
  assert.equal(redirect.headers.get("location"), "/demo/");
  const page = await fetch(`${server.url}/demo/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(page.headers.get("cross-origin-opener-policy"), "same-origin");
  assert.equal(page.headers.get("cross-origin-embedder-policy"), "require-corp");
  assert.match(await page.text(), /<script type="module" src="demo.js">/);
  for (const [name, type] of [["qaq-engine-worker.js", "text/javascript; charset=utf-8"], ["kernels.wasm", "application/wasm"], ["models/stories260K/tok512.bin", "application/octet-stream"]] as const) {
    const response = await fetch(`${server.url}/demo/${name}`);
    assert.equal(response.status, 200, name);
    assert.equal(response.headers.get("content-type"), type, name);
    assert.equal(response.headers.get("cross-origin-embedder-policy"), "require-corp", name);
    const body = new Uint8Array(await response.arrayBuffer());
    assert.deepEqual(body, new Uint8Array(readFileSync(join(PROJECT_ROOT, "dist", "browser", name))), `${name}: the built file's bytes`);
  }
  const head = await fetch(`${server.url}/demo/kernels.wasm`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers.get("content-length")), readFileSync(join(PROJECT_ROOT, "dist", "kernels.wasm")).byteLength);
});

test("/demo/ serves nothing outside the built demo, and only GET/HEAD", { timeout: 30_000 }, async () => {
  for (const path of ["/demo/../package.json", "/demo/%2e%2e/package.json", "/demo/..%2Fpackage.json", "/demo/%2E%2E%2F%2E%2E%2Fpackage.json", "/demo/nothing.js", "/demo//etc/passwd", "/demox"]) {
    const response = await fetch(`${server.url}${path}`);
    assert.equal(response.status, 404, path);
    assert.doesNotMatch(await response.text(), /"name": "qaq-kv"|root:/, path);
  }
  const post = await fetch(`${server.url}/demo/index.html`, { method: "POST", body: "{}" });
  assert.equal(post.status, 405);
  // the API is untouched by the route
  assert.equal((await fetch(`${server.url}/health`)).status, 200);
});
