/**
 * A streaming quantile estimate with a relative-error bound, for the server's summaries
 * (metrics.ts): values go into logarithmic buckets (bucket i holds (γ^(i-1), γ^i] with
 * γ = (1+α)/(1-α)), so any quantile is answered within α = 1% of a value that was observed at
 * that rank; exact count, sum, minimum and maximum are kept beside them. This is the DDSketch
 * construction (Masson, Rim, Lee, VLDB 2019) without its bucket-collapsing: request durations
 * and sizes span a few decades, a few hundred buckets at most.
 *
 * `add` costs a logarithm and a map update; memory is bounded by the number of distinct buckets.
 * Zero (and anything below 1e-9, e.g. an empty body) is counted apart. Not safe for concurrent
 * use (nothing here awaits).
 *
 * Example:
 *   const s = new QuantileSketch();
 *   for (const v of [1, 2, 3, 100]) s.add(v);
 *   s.quantile(0.5);  // ≈ 2 (within 1%)
 */

const ALPHA = 0.01;
const GAMMA = (1 + ALPHA) / (1 - ALPHA);
const LOG_GAMMA = Math.log(GAMMA);
/** Values at or below this count as zero. */
const MIN_POSITIVE = 1e-9;

export class QuantileSketch {
  /** Bucket index → count. */
  readonly #buckets = new Map<number, number>();
  #zeros = 0;
  #count = 0;
  #sum = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = Number.NEGATIVE_INFINITY;

  get count(): number {
    return this.#count;
  }

  get sum(): number {
    return this.#sum;
  }

  /** Record one value (≥ 0; negative values count as zero). */
  add(value: number): void {
    this.#count++;
    this.#sum += value;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
    if (!(value > MIN_POSITIVE)) {
      this.#zeros++;
      return;
    }
    const i = Math.ceil(Math.log(value) / LOG_GAMMA);
    this.#buckets.set(i, (this.#buckets.get(i) ?? 0) + 1);
  }

  /**
   * The value at quantile q ∈ [0, 1] (rank q·(n−1), as DDSketch), within 1% and never outside
   * the observed minimum and maximum; NaN before the first value (as prom-client answered).
   */
  quantile(q: number): number {
    if (this.#count === 0) return Number.NaN;
    const rank = q * (this.#count - 1);
    let seen = this.#zeros;
    let estimate = 0;
    if (seen <= rank) {
      estimate = this.#max;
      for (const i of [...this.#buckets.keys()].sort((a, b) => a - b)) {
        seen += this.#buckets.get(i)!;
        if (seen > rank) {
          estimate = (2 * GAMMA ** i) / (GAMMA + 1);
          break;
        }
      }
    }
    return Math.min(this.#max, Math.max(this.#min, estimate));
  }
}
