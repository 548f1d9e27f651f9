/** Where a command writes: stdout for results, stderr for logs and figures (injectable for tests). */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** where interactive commands (qaq chat) read lines from; default process.stdin */
  readonly input?: NodeJS.ReadableStream;
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};
