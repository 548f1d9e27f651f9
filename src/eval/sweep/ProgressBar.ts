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
  /** When set, the bar counts this unit (tokens, bytes, tensors) instead of jobs, with its rate per second. */
  readonly unit?: string;
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
  if (p.unit !== undefined) {
    const rate = p.elapsedSeconds > 0 ? p.doneWeight / p.elapsedSeconds : 0;
    return (
      `[${bar}] ${(100 * fraction).toFixed(0).padStart(3)}% ${formatCount(p.doneWeight)}/${formatCount(p.totalWeight)} ${p.unit}, ` +
      `${formatCount(rate)} ${p.unit}/s, ${formatDuration(p.elapsedSeconds)} elapsed, ETA ${formatDuration(eta)}  ${p.label}`
    ).trimEnd();
  }
  return `[${bar}] ${(100 * fraction).toFixed(0).padStart(3)}% ${p.doneJobs}/${p.totalJobs} jobs, ${formatDuration(p.elapsedSeconds)} elapsed, ETA ${formatDuration(eta)}  ${p.label}`;
}

/** 1234 -> "1234", 12345678 -> "12.3M" (counts and rates in the bar). */
function formatCount(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toFixed(1)}G`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  return value >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1);
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
    private readonly unit?: string,
    /** false: nothing but `note` is written (--quiet) */
    private readonly drawBar = true,
  ) {}

  /** Progress as an amount done of the total (a unit bar: tokens scored, bytes read), not as finished jobs. */
  update(doneWeight: number, label = ""): void {
    this.doneWeight = doneWeight;
    this.draw(label, doneWeight >= this.totalWeight);
  }

  /** A job finished (its weight counts as done); `label` names what just finished. */
  advance(weight: number, label: string): void {
    this.doneJobs++;
    this.doneWeight += weight;
    this.draw(label, this.doneJobs >= this.totalJobs);
  }

  private draw(label: string, last: boolean): void {
    if (!this.drawBar) return;
    const now = performance.now();
    const interval = this.terminal ? 200 : 30_000;
    if (now - this.lastDraw < interval && !last) return;
    this.lastDraw = now;
    const text = formatProgress({
      doneJobs: this.doneJobs,
      totalJobs: this.totalJobs,
      doneWeight: this.doneWeight,
      totalWeight: this.totalWeight,
      elapsedSeconds: (now - this.started) / 1000,
      label,
      ...(this.unit === undefined ? {} : { unit: this.unit }),
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
