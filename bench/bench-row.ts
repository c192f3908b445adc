/** One figure of `npm run bench`. Each bench module exports `run(): Promise<BenchRow[]>`. */
export interface BenchRow {
  /** What was measured, e.g. "token verify p50". */
  readonly name: string;
  readonly value: number;
  /** e.g. "µs", "ms", "ops/s", "KB", "×". */
  readonly unit: string;
  /** How it was measured, or the target it is held against. */
  readonly note?: string;
}
