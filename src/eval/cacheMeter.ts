/**
 * The memory figures of a run, from the cache's measured bytes (cacheReport) sampled at every scoring point (after
 * each choice, window or generation) and pooled over the samples:
 *   ratioVsFp16 = Σ fp16 bytes of the tokens seen / Σ hot bytes;  bitsPerValue = 8·Σ hot bytes / Σ values;
 *   paperBitsPerValue = value-weighted mean of the paper's bits-only figure;  paperRatio = 16 / paperBitsPerValue.
 * Hot bytes are what the stored tokens occupy; capacity allocated beyond them (growth room) is meanSlackBytes, in no
 * ratio.
 */
import { cacheReport } from "../cache/cacheReport.js";
import type { CacheReportView } from "../cache/CacheReportView.js";
import type { ModelConfig } from "../model/config.js";

export interface CacheSummary {
  /** the cache as it describes itself (protocol wrapper included) */
  readonly spec: string;
  readonly samples: number;
  readonly meanTokens: number;
  readonly meanHotBytes: number;
  /** the hot bytes by part: packed codes (or raw values), metadata, outliers, full-precision tokens */
  readonly meanCodesBytes: number;
  readonly meanMetadataBytes: number;
  readonly meanOutlierBytes: number;
  readonly meanResidualBytes: number;
  /** full-precision backing tier (QAQ re-quantization source), reported apart from the hot cache */
  readonly meanBackingBytes: number;
  /** allocated capacity beyond the stored tokens (dense rows grown by doubling, ledgers with room), apart */
  readonly meanSlackBytes: number;
  readonly peakHotBytes: number;
  readonly bitsPerValue: number;
  readonly ratioVsFp16: number;
  readonly paperBitsPerValue: number;
  readonly paperRatio: number;
}

export class CacheMeter {
  private spec = "";
  private samples = 0;
  private tokens = 0;
  private values = 0;
  private hotBytes = 0;
  private codesBytes = 0;
  private metadataBytes = 0;
  private outlierBytes = 0;
  private residualBytes = 0;
  private backingBytes = 0;
  private slackBytes = 0;
  private peakHotBytes = 0;
  private paperBitValues = 0;

  constructor(private readonly config: ModelConfig) {}

  sample(cache: CacheReportView): void {
    const report = cacheReport(cache, this.config);
    const values = report.tokens * this.config.nLayers * 2 * this.config.nKvHeads * this.config.headDim;
    this.spec = report.spec;
    this.samples++;
    this.tokens += report.tokens;
    this.values += values;
    this.hotBytes += report.hotBytes;
    this.codesBytes += report.codesBytes;
    this.metadataBytes += report.metadataBytes;
    this.outlierBytes += report.outlierBytes;
    this.residualBytes += report.residualBytes;
    this.backingBytes += report.backingBytes;
    this.slackBytes += report.slackBytes;
    this.peakHotBytes = Math.max(this.peakHotBytes, report.hotBytes);
    this.paperBitValues += report.paperBitsPerValue * values;
  }

  summary(): CacheSummary {
    const n = Math.max(1, this.samples);
    const paperBitsPerValue = this.values > 0 ? this.paperBitValues / this.values : 0;
    return {
      spec: this.spec,
      samples: this.samples,
      meanTokens: this.tokens / n,
      meanHotBytes: this.hotBytes / n,
      meanCodesBytes: this.codesBytes / n,
      meanMetadataBytes: this.metadataBytes / n,
      meanOutlierBytes: this.outlierBytes / n,
      meanResidualBytes: this.residualBytes / n,
      meanBackingBytes: this.backingBytes / n,
      meanSlackBytes: this.slackBytes / n,
      peakHotBytes: this.peakHotBytes,
      bitsPerValue: this.values > 0 ? (8 * this.hotBytes) / this.values : 0,
      ratioVsFp16: this.hotBytes > 0 ? (2 * this.values) / this.hotBytes : 0,
      paperBitsPerValue,
      paperRatio: paperBitsPerValue > 0 ? 16 / paperBitsPerValue : 0,
    };
  }
}
