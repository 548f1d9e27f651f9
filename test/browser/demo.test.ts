import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { Engine } from "../../src/engine/Engine.js";
import { Session } from "../../src/engine/Session.js";
import { generateOn, type GenerationStats } from "../../src/generate/generate.js";
import { Sampler } from "../../src/generate/sampler.js";
import { parseKvSpec } from "../../src/cache/spec.js";
import { launchChromium } from "../support/browser.js";
import { startStaticServer } from "../support/staticServer.js";
import { QaqServer } from "../../src/server/QaqServer.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER, PROJECT_ROOT } from "../support/paths.js";
import type { GenerationResult, ModelInfo } from "../../src/platform/browser/engineProtocol.js";
import type { QaqClient } from "../../src/platform/browser/QaqClient.js";

// The demo page (dist/browser, built by `npm run build`) in headless Chromium, served by `qaq serve` (with COOP/COEP)
// and by a plain static server (without them):
// 64 greedy tokens with fp32 and with QAQ equal the Node engine's ids for the same prompt and spec; a File loads
// like a URL; threads > 1 and backing=file are refused where they cannot work; Stop (an AbortSignal) ends a
// generation between two tokens. The screenshot of the isolated run's page goes to
// test-artifacts/browser-demo-isolated.png (gitignored), overwritten by each run.

const BROWSER_DIR = join(PROJECT_ROOT, "dist", "browser");
const ARTIFACTS = join(PROJECT_ROOT, "test-artifacts");
const PROMPT = "Once upon a time";
const SPECS = ["fp32", "qaq"];
const TOKENS = 64;

interface DemoHandle {
  client: QaqClient;
  ready: Promise<ModelInfo>;
  lastResult?: GenerationResult;
}
declare const qaqDemo: DemoHandle;

/** The Node engine's ids for the same prompt and spec (the same generate loop the worker runs). */
async function nodeIds(engine: Engine, spec: string): Promise<number[]> {
  {
    const session = Session.open(engine, parseKvSpec(spec));
    const ids: number[] = [];
    const stats: { value?: GenerationStats } = {};
    for await (const token of generateOn(session, engine.tokenizer.encode(PROMPT), TOKENS, new Sampler({ kind: "greedy" }), stats)) {
      if (token.id >= 0) ids.push(token.id);
    }
    session.dispose();
    return ids;
  }
}

let browser: Browser;
let engine: Engine;
const expected = new Map<string, number[]>();

before(async () => {
  assert.ok(existsSync(join(BROWSER_DIR, "qaq-engine-worker.js")), `${BROWSER_DIR} is missing: run npm run build`);
  engine = await Engine.load(BUNDLED_MODEL, BUNDLED_TOKENIZER, 1);
  for (const spec of SPECS) expected.set(spec, await nodeIds(engine, spec));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  engine?.dispose();
});

async function openDemo(server: { url: string }, query = ""): Promise<{ page: Page; info: ModelInfo; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(server.url + query);
  const info = await page.evaluate(() => qaqDemo.ready);
  return { page, info, errors };
}

function generateIn(page: Page, spec: string): Promise<GenerationResult> {
  return page.evaluate(([prompt, kv, maxTokens]) => qaqDemo.client.generate({ prompt, kv, maxTokens }), [PROMPT, spec, TOKENS] as const);
}

/** The page's own form: prompt, spec and token count typed in, Generate clicked, then a screenshot. */
async function generateThroughForm(page: Page, spec: string, screenshot: string): Promise<GenerationResult> {
  await page.fill("#prompt", PROMPT);
  await page.fill("#kv", spec);
  await page.fill("#maxTokens", String(TOKENS));
  await page.click("#generate");
  await page.waitForFunction(() => ["done", "failed"].includes(document.getElementById("status")!.dataset["state"]!), null, { timeout: 120_000 });
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, screenshot), fullPage: true });
  const result = await page.evaluate(() => qaqDemo.lastResult);
  assert.ok(result !== undefined, `the form's generation finished (error: ${await page.textContent("#error")})`);
  return result;
}

test("served by qaq serve at /demo/ (cross-origin isolated): two threads, fp32 and QAQ ids equal Node's, the form streams and measures", { timeout: 300_000 }, async () => {
  const server = await QaqServer.start({ engine, kv: { kind: "fp32" }, port: 0 });
  try {
    const { page, info, errors } = await openDemo({ url: `${server.url}/demo/` }, "?threads=2");
    assert.equal(info.crossOriginIsolated, true);
    assert.equal(info.threads, 2, "pool workers start as Web Workers over the shared memory");
    for (const spec of SPECS) {
      const result = await generateIn(page, spec);
      assert.deepEqual(result.ids, expected.get(spec), `${spec}: the tab's ids equal Node's`);
      assert.equal(result.stats.stoppedBy, "max-tokens");
    }
    const viaForm = await generateThroughForm(page, "qaq", "browser-demo-isolated.png");
    assert.deepEqual(viaForm.ids, expected.get("qaq"), "the form's run equals Node's");
    assert.equal(viaForm.cache.report.tokens, 4 + TOKENS, "prompt (BOS + 4) and every generated token but the last");
    assert.ok(viaForm.cache.widths !== undefined && viaForm.cache.widths.length === info.nLayers, "QAQ's width map per layer");
    assert.ok(viaForm.cache.report.hotBytes > 0 && viaForm.cache.report.backingBytes > 0, "measured hot and backing bytes");
    const shown = await page.textContent("#output");
    assert.ok(shown !== null && shown.startsWith(PROMPT) && shown.length > PROMPT.length + 40, `streamed text: ${shown}`);
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await server.close();
  }
});

test("not isolated: one thread chosen automatically, ids equal Node's, a File loads, refusals are clear, Stop cancels", { timeout: 300_000 }, async () => {
  const server = await startStaticServer(BROWSER_DIR, false);
  try {
    const { page, info, errors } = await openDemo(server);
    assert.equal(info.crossOriginIsolated, false);
    assert.equal(info.threads, 1, "auto: one thread without cross-origin isolation");
    for (const spec of SPECS) assert.deepEqual((await generateIn(page, spec)).ids, expected.get(spec), `${spec}: the tab's ids equal Node's`);

    const refusals = await page.evaluate(async () => {
      const message = (promise: Promise<unknown>) => promise.then(() => "resolved", (error: Error) => `${error.name}: ${error.message}`);
      return {
        threads: await message(qaqDemo.client.load({ model: "models/stories260K/stories260K.bin", tokenizer: "models/stories260K/tok512.bin", threads: 2 })),
        missing: await message(qaqDemo.client.load({ model: "models/none.bin", tokenizer: "models/stories260K/tok512.bin" })),
      };
    });
    assert.match(refusals.threads, /^UnsupportedError: threads: 2 needs a cross-origin isolated page/);
    assert.match(refusals.missing, /^FileFormatError: http:\/\/127\.0\.0\.1:\d+\/models\/none\.bin: HTTP 404/);

    // a File (as from <input type=file>) instead of a URL; then generation with the file backing tier and a cancel
    const fromFile = await page.evaluate(async ([prompt, maxTokens]) => {
      const file = async (url: string, name: string) => new File([await (await fetch(url)).arrayBuffer()], name);
      const info = await qaqDemo.client.load({
        model: await file("models/stories260K/stories260K.bin", "stories260K.bin"),
        tokenizer: await file("models/stories260K/tok512.bin", "tok512.bin"),
      });
      const result = await qaqDemo.client.generate({ prompt, kv: "qaq", maxTokens });
      const fileBacking = await qaqDemo.client.generate({ prompt, kv: "qaq:backing=file", maxTokens }).then(
        () => "resolved",
        (error: Error) => `${error.name}: ${error.message}`,
      );
      const stop = new AbortController();
      let seen = 0;
      const cancelled = await qaqDemo.client.generate({ prompt, kv: "qaq", maxTokens: 400, signal: stop.signal, onToken: () => ++seen === 3 && stop.abort() });
      return { name: info.name, ids: result.ids, fileBacking, cancelled: { stoppedBy: cancelled.stats.stoppedBy, generated: cancelled.ids.length } };
    }, [PROMPT, TOKENS] as const);
    assert.equal(fromFile.name, "stories260K.bin");
    assert.deepEqual(fromFile.ids, expected.get("qaq"), "loaded from a File: the same ids");
    assert.match(fromFile.fileBacking, /^UnsupportedError: QAQ's backing=file \(use backing=memory or backing=none\) needs a file system/);
    assert.equal(fromFile.cancelled.stoppedBy, "aborted");
    assert.ok(fromFile.cancelled.generated >= 3 && fromFile.cancelled.generated < 400, `cancelled after ${fromFile.cancelled.generated} tokens`);
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await server.close();
  }
});
