/**
 * Ctrl-C (SIGINT) and SIGTERM for commands that can stop cleanly (ppl, eval): the first signal aborts the
 * AbortSignal handed to the command, which stops at its next check, reports what it finished (marked partial) or
 * removes its temporary file, and ends with an InterruptedError (exit 130, or 143 for SIGTERM). A second signal
 * exits at once. Commands that do not take the signal keep Node's default: the process ends at the first Ctrl-C.
 */
export async function withInterrupt<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(name === "SIGTERM" ? 143 : 130);
    controller.abort(name);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await body(controller.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
