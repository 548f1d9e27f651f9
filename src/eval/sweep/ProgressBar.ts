/**
 * A progress bar with an ETA on stderr. Jobs are weighted (a sweep weighs each by its task's fp32 time), and the ETA
 * is elapsed × remaining weight / done weight. On a terminal the bar is redrawn in place (at most 5 times a second);
 * otherwise (a log file) one line is written at most every 30 seconds.
 */
export interface ProgressState {
  readonly doneJobs: number;
  readonly totalJobs: number;
  readonly doneWeight: number;
  readonly totalWeight: number;
  readonly elapsedSeconds: number;
  readonly label: string;
}

const BAR_WIDTH = 24;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export function formatProgress(p: ProgressState): string {
  const fraction = p.totalWeight > 0 ? Math.min(1, p.doneWeight / p.totalWeight) : 0;
  const filled = Math.round(fraction * BAR_WIDTH);
  const eta = p.doneWeight > 0 ? (p.elapsedSeconds * (p.totalWeight - p.doneWeight)) / p.doneWeight : Number.NaN;
  const bar = "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled);
  return `[${bar}] ${(100 * fraction).toFixed(0).padStart(3)}% ${p.doneJobs}/${p.totalJobs} jobs, ${formatDuration(p.elapsedSeconds)} elapsed, ETA ${formatDuration(eta)}  ${p.label}`;
}

export class ProgressBar {
  private readonly started = performance.now();
  private lastDraw = -Infinity;
  private doneJobs = 0;
  private doneWeight = 0;
  private drawn = false;

  constructor(
    private readonly write: (text: string) => void,
    private readonly terminal: boolean,
    private readonly totalJobs: number,
    private readonly totalWeight: number,
  ) {}

  /** A job finished (its weight counts as done); `label` names what just finished. */
  advance(weight: number, label: string): void {
    this.doneJobs++;
    this.doneWeight += weight;
    const now = performance.now();
    const interval = this.terminal ? 200 : 30_000;
    if (now - this.lastDraw < interval && this.doneJobs < this.totalJobs) return;
    this.lastDraw = now;
    const text = formatProgress({
      doneJobs: this.doneJobs,
      totalJobs: this.totalJobs,
      doneWeight: this.doneWeight,
      totalWeight: this.totalWeight,
      elapsedSeconds: (now - this.started) / 1000,
      label,
    });
    this.write(this.terminal ? `\r\x1b[2K${text}` : `${text}\n`);
    this.drawn = true;
  }

  /** A message that must not be overwritten by the bar (a failure). */
  note(text: string): void {
    this.write(this.terminal && this.drawn ? `\r\x1b[2K${text}\n` : `${text}\n`);
    this.lastDraw = -Infinity;
  }

  finish(): void {
    if (this.terminal && this.drawn) this.write("\n");
  }
}
