import { test } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "../support/browser.js";

// The browser tests' footing: Debian's Chromium starts headless under playwright-core and has what the engine's
// browser build needs (WebAssembly SIMD128 for the kernels; SharedArrayBuffer only when cross-origin isolated).
test("headless Chromium runs WebAssembly SIMD and withholds SharedArrayBuffer without isolation", { timeout: 120_000 }, async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.setContent("<!doctype html><title>probe</title>");
    const probe = await page.evaluate(() => {
      // (module (func (result v128) v128.const i32x4 0 0 0 0)): valid only where SIMD128 is supported.
      const simdModule = new Uint8Array([
        0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
      ]);
      return {
        simd: WebAssembly.validate(simdModule),
        isolated: globalThis.crossOriginIsolated,
        sharedArrayBuffer: typeof SharedArrayBuffer,
      };
    });
    assert.equal(probe.simd, true, "Chromium validates a SIMD128 module");
    assert.equal(probe.isolated, false, "a page without COOP/COEP headers is not cross-origin isolated");
    assert.equal(probe.sharedArrayBuffer, "undefined", "SharedArrayBuffer exists only under cross-origin isolation");
  } finally {
    await browser.close();
  }
});
