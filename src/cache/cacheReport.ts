import type { BackingLocation, CacheReportView } from "./CacheReportView.js";
import type { ModelConfig } from "../model/config.js";
import { paperBitsPerValue, paperCompressionRatio } from "./paperBits.js";

/**
 * The memory figures a user sees for a cache, all from measured bytes:
 *   values = tokens × layers × 2 (K and V) × kvDim, for every position the cache has seen;
 *   fp16Bytes = 2·values: the same tokens in fp16;
 *   bitsPerValue = 8·hotBytes / values;  ratioVsFp16 = fp16Bytes / hotBytes (above 1: smaller than fp16).
 * hotBytes is what the stored tokens occupy in the cache attention reads (codes, scales, zeros, widths, outliers
 * and their positions, policy state, full-precision rows); capacity allocated beyond them (slackBytes) and the
 * full-precision backing tier (backingBytes, in memory or on disk) are reported apart and in no ratio.
 * Beside them, the QAQ paper's bits-only figures (paperBits.ts: code widths only, outliers at 16 bits, no metadata),
 * for comparison with published numbers: paperBitsPerValue and paperRatio = 16 / paperBitsPerValue.
 */
export interface CacheReport {
  readonly spec: string;
  readonly tokens: number;
  readonly hotBytes: number;
  readonly codesBytes: number;
  readonly metadataBytes: number;
  readonly outlierBytes: number;
  readonly residualBytes: number;
  readonly slackBytes: number;
  readonly backingBytes: number;
  readonly backingLocation: BackingLocation;
  readonly fp16Bytes: number;
  readonly bitsPerValue: number;
  readonly ratioVsFp16: number;
  readonly paperBitsPerValue: number;
  readonly paperRatio: number;
}

export function cacheReport(cache: CacheReportView, config: ModelConfig): CacheReport {
  const bytes = cache.nbytes();
  const bits = cache.paperBits();
  const tokens = cache.nextPos;
  const values = tokens * config.nLayers * 2 * config.nKvHeads * config.headDim;
  return {
    spec: cache.spec,
    tokens,
    hotBytes: bytes.hot,
    codesBytes: bytes.codes,
    metadataBytes: bytes.metadata,
    outlierBytes: bytes.outliers,
    residualBytes: bytes.residual,
    slackBytes: bytes.slack,
    backingBytes: bytes.backing,
    backingLocation: bytes.backingLocation,
    fp16Bytes: 2 * values,
    bitsPerValue: values > 0 ? (8 * bytes.hot) / values : 0,
    ratioVsFp16: bytes.hot > 0 ? (2 * values) / bytes.hot : 0,
    paperBitsPerValue: paperBitsPerValue(bits),
    paperRatio: paperCompressionRatio(bits),
  };
}

/** "3.21x smaller than fp16", "1.89x larger than fp16", "the size of fp16" (ratio = fp16 bytes / hot bytes). */
function versusFp16(ratio: number): string {
  if (ratio === 0 || Math.abs(ratio - 1) < 0.005) return "the size of fp16";
  return ratio > 1 ? `${ratio.toFixed(2)}x smaller than fp16` : `${(1 / ratio).toFixed(2)}x larger than fp16`;
}

/** Bytes for people: B, KiB, MiB, GiB (binary units), three significant digits. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toPrecision(3)} ${units[unit]}`;
}

/**
 * One line for people: hot bytes, the ratio against fp16 for the same tokens, and whatever is held apart (backing
 * copy, spare capacity), then the paper's bits-only ratio. E.g.
 *   KV cache qaq, 260 tokens: 61.2 KiB = 1.89x larger than fp16 (32.5 KiB), 30.1 bits/value
 *   + 65.0 KiB full-precision copy in memory; QAQ paper's bits-only ratio 5.30x
 */
export function describeCacheReport(report: CacheReport): string {
  const parts = [
    `KV cache ${report.spec}, ${report.tokens} tokens: ${formatBytes(report.hotBytes)} = ${versusFp16(report.ratioVsFp16)} ` +
      `(${formatBytes(report.fp16Bytes)}), ${report.bitsPerValue.toFixed(2)} bits/value`,
  ];
  if (report.backingBytes > 0) {
    parts.push(`+ ${formatBytes(report.backingBytes)} full-precision copy ${report.backingLocation === "disk" ? "on disk" : "in memory"}`);
  }
  if (report.slackBytes > 0) parts.push(`+ ${formatBytes(report.slackBytes)} spare capacity`);
  return `${parts.join(" ")}; QAQ paper's bits-only ratio ${report.paperRatio.toFixed(2)}x`;
}
