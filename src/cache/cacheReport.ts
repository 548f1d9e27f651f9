import type { CacheReportView } from "./CacheReportView.js";
import type { ModelConfig } from "../model/config.js";
import { paperBitsPerValue, paperCompressionRatio } from "./paperBits.js";

/**
 * The memory figures a user sees for a cache, all from measured bytes:
 *   bitsPerValue = 8·hotBytes / (stored values), stored values = tokens × layers × 2 (K and V) × kvDim;
 *   ratioVsFp16 = (the same tokens in fp16: 2 bytes per value) / hotBytes.
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
  readonly backingBytes: number;
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
    backingBytes: bytes.backing,
    bitsPerValue: values > 0 ? (8 * bytes.hot) / values : 0,
    ratioVsFp16: bytes.hot > 0 ? (2 * values) / bytes.hot : 0,
    paperBitsPerValue: paperBitsPerValue(bits),
    paperRatio: paperCompressionRatio(bits),
  };
}
