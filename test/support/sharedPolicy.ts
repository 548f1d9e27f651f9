/**
 * What happens when ../shared (golden files, the llama.cpp-converted GGUF, data sets) is absent: the tests that need
 * it run and fail, so `npm test` cannot pass by skipping them in silence, unless QAQ_SKIP_SHARED=1 says to skip
 * them; then test/sharedPresence.test.ts reports how the run was cut short. Tests that only need stories260K use the
 * bundled copy in models/ and never depend on this.
 */
export const SKIP_SHARED_REQUESTED = process.env["QAQ_SKIP_SHARED"] === "1";

/** node:test's `skip` option for a test needing shared files: a reason only when opted out, else false (run, fail). */
export function sharedSkip(present: boolean, what: string): string | false {
  if (present) return false;
  return SKIP_SHARED_REQUESTED ? `${what} absent; skipped because QAQ_SKIP_SHARED=1` : false;
}
