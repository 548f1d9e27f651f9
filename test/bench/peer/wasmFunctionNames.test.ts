import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileFormatError } from "../../../src/util/errors.js";
import { wasmFunctionNames } from "../../../src/bench/peer/wasmFunctionNames.js";

/**
 * A module written byte by byte from the binary format: one import (function "env"."log" -> index 0), two defined
 * functions (indices 1 and 2), a memory, and exports "second" -> function 2, "mem" -> memory 0, "first" -> function 1.
 * WebAssembly.Module validates it, so the expected indices are the format's, not the parser's.
 */
const MODULE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: one type () -> ()
  0x02, 0x0b, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x6c, 0x6f, 0x67, 0x00, 0x00, // import "env" "log" func type 0
  0x03, 0x03, 0x02, 0x00, 0x00, // function section: two functions of type 0
  0x05, 0x03, 0x01, 0x00, 0x01, // memory section: one memory, min 1 page
  0x07, 0x18, 0x03, // export section, 3 exports
  0x06, 0x73, 0x65, 0x63, 0x6f, 0x6e, 0x64, 0x00, 0x02, // "second" func 2
  0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, // "mem" memory 0
  0x05, 0x66, 0x69, 0x72, 0x73, 0x74, 0x00, 0x01, // "first" func 1
  0x0a, 0x07, 0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b, // code section: two empty bodies
]);

/** One folder for the files of this test file, removed when it ends. */
const dir = mkdtempSync(join(tmpdir(), "qaq-wasm-names-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let written = 0;

function writeTemp(bytes: Uint8Array): string {
  const path = join(dir, `m${written++}.wasm`);
  writeFileSync(path, bytes);
  return path;
}

test("export names by function index, imports counted, non-function exports left out", () => {
  assert.ok(WebAssembly.validate(MODULE), "the hand-written module is valid WebAssembly");
  const names = wasmFunctionNames(writeTemp(MODULE));
  assert.deepEqual([...names].sort((a, b) => a[0] - b[0]), [[1, "first"], [2, "second"]]);
});

test("a file that is not WebAssembly fails with a FileFormatError naming it", () => {
  const path = writeTemp(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 0]));
  assert.throws(() => wasmFunctionNames(path), (error: unknown) => error instanceof FileFormatError && error.message.startsWith(path));
});

test("a truncated export section fails clearly instead of reading past the end", () => {
  const truncated = MODULE.subarray(0, MODULE.indexOf(0x07, 30) + 3);
  assert.throws(() => wasmFunctionNames(writeTemp(truncated)), FileFormatError);
});
