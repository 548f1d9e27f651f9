/**
 * The parent's handle on one sweep worker process: fork, then strictly one request in flight; a worker that dies
 * rejects its pending request (so the sweep can record the job as failed and go on with the other workers).
 */
import { fork, type ChildProcess } from "node:child_process";
import type { FromWorker, ToWorker } from "./sweepMessages.js";

const WORKER_SCRIPT = new URL("./sweepWorker.js", import.meta.url);

export class WorkerProcess {
  private readonly child: ChildProcess;
  private pending: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | undefined;
  private exited = false;

  constructor(readonly id: number) {
    // its own process group: a Ctrl-C reaches the parent alone, which stops the workers in order (an orphaned worker
    // still exits, when its IPC channel closes)
    this.child = fork(WORKER_SCRIPT, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], detached: true });
    this.child.on("message", (message: FromWorker) => {
      const pending = this.pending;
      this.pending = undefined;
      pending?.resolve(message);
    });
    this.child.on("exit", (code, signal) => {
      this.exited = true;
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(new Error(`worker ${id} exited (${signal ?? `code ${code}`})`));
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  request(message: ToWorker): Promise<FromWorker> {
    if (this.exited) return Promise.reject(new Error(`worker ${this.id} is gone`));
    if (this.pending) return Promise.reject(new Error(`worker ${this.id} is busy`));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.child.send(message);
    });
  }

  /** Lets the worker finish and exit (it exits when the channel closes). */
  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.disconnect();
    });
  }

  /** Stops the worker now (interrupt). */
  kill(): void {
    if (!this.exited) this.child.kill("SIGTERM");
  }
}
