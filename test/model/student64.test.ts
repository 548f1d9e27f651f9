import { after } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../../src/engine/Engine.js";
import { runCli } from "../../src/cli/main.js";
import { goldenSuite } from "../support/goldenSuite.js";
import { SKIP_STUDENT64, STUDENT64_GOLDEN, STUDENT64_MODEL, STUDENT64_TOKENIZER } from "../support/paths.js";

/**
 * student64 (head size 64, GQA; the model for memory and fidelity claims) against ../shared/golden/student64.json:
 * from its llama2.c .bin with stories260K's tokenizer, and from the f32 GGUF that `qaq convert` makes of it (its
 * own vocabulary, no tokenizer file).
 */
goldenSuite("student64 .bin", STUDENT64_GOLDEN, SKIP_STUDENT64, () => Engine.load(STUDENT64_MODEL, STUDENT64_TOKENIZER, 1));

const dir = mkdtempSync(join(tmpdir(), "qaq-student64-"));
after(() => rmSync(dir, { recursive: true, force: true }));

goldenSuite("student64 GGUF from qaq convert", STUDENT64_GOLDEN, SKIP_STUDENT64, async () => {
  const out = join(dir, "student64.f32.gguf");
  let errors = "";
  const code = await runCli(["convert", STUDENT64_MODEL, "--tokenizer", STUDENT64_TOKENIZER, "--out", out, "--type", "f32"], {
    out: () => undefined,
    err: (text: string) => void (errors += text),
  });
  if (code !== 0) throw new Error(`qaq convert exited ${code}: ${errors}`);
  return Engine.load(out, undefined, 1);
});
