/**
 * Keeps each collection's whitening in step with its images: fitted once the collection is big
 * enough to learn from, refitted as it grows, cached for the repost checks in between.
 */
import type { CollectionTable } from "../store/collection-table.ts";
import type { Projection, TransposedProduct } from "../vectors.ts";
import { applyWhiteningMany, DEFAULT_WHITENING, truncateWhitening, type WhiteningOptions } from "../whitening.ts";
import { fitWhiteningInWorker } from "./fit-in-worker.ts";
import type { StoredWhitening, WhiteningRepository } from "./repository.ts";

export interface WhiteningPolicy {
  /** Learn a whitening once a collection has this many images; smaller ones are judged on plain cosine. */
  readonly minRows: number;
  /** Refit once the collection has grown this many times past the rows of the last fit. */
  readonly refitGrowth: number;
  /**
   * Refit once this share of the rows the fit was learned from is gone (members who opted out,
   * deleted messages): their images must leave the statistics too, not only the table.
   */
  readonly refitRemovedShare: number;
  /** Vectors a fit reads at most (spread over the table); bounds its time and memory. */
  readonly sampleRows: number;
  readonly options: WhiteningOptions;
}

/**
 * 2,000 images: the smallest fit size at which the whitened thresholds kept their false-repost
 * promise in the repost benchmark (a whitening learned from 1,000 images let ~1 % through, from
 * 500 ~10 %; bench/RESULTS.md, "How many images a collection needs"). A fit on 7,000 × 1280-d
 * vectors took ~13 s of one core, in a worker thread.
 */
export const DEFAULT_WHITENING_POLICY: WhiteningPolicy = {
  minRows: 2_000,
  refitGrowth: 2,
  refitRemovedShare: 0.1,
  sampleRows: 8_000,
  options: DEFAULT_WHITENING,
};

export type WhiteningOutcome = "none" | "fitted" | "dropped";

export class WhiteningMaintainer {
  private readonly cache = new Map<string, Promise<StoredWhitening | null>>();
  /** Rows removed from each collection since its fit (this process's count; the row count covers restarts). */
  private readonly removedSinceFit = new Map<string, number>();

  constructor(
    private readonly repository: WhiteningRepository,
    /** The vector space's name: a stored fit for another space is never applied. */
    private readonly space: string,
    readonly policy: WhiteningPolicy = DEFAULT_WHITENING_POLICY,
  ) {}

  /** Counts rows deleted from a collection towards its refit. */
  noteRemoved(collection: string, rows: number): void {
    if (rows > 0) this.removedSinceFit.set(collection, (this.removedSinceFit.get(collection) ?? 0) + rows);
  }

  /**
   * Fits (or refits) the collection's whitening when the policy says it is due: big enough for a
   * first fit, grown past the last one, or a tenth of its rows gone. A collection that shrank below
   * the minimum loses its fit (plain cosine again) rather than keep statistics of removed images.
   */
  async refresh(table: CollectionTable, signal?: AbortSignal): Promise<WhiteningOutcome> {
    const rows = await table.count();
    const current = await this.current(table.name);
    if (rows < this.policy.minRows) {
      if (!current) return "none";
      await this.repository.drop(table.name);
      this.cache.set(table.name, Promise.resolve(null));
      this.removedSinceFit.delete(table.name);
      return "dropped";
    }
    if (current && !this.refitDue(table.name, rows, current)) return "none";
    const sample = await table.sampleVectors(this.policy.sampleRows);
    const whitening = await fitWhiteningInWorker(sample, this.policy.options, signal);
    const stored: StoredWhitening = { whitening, collectionRows: rows, sampleRows: sample.length, space: this.space, fittedAt: new Date() };
    await this.repository.save(table.name, stored);
    this.cache.set(table.name, Promise.resolve(stored));
    this.removedSinceFit.delete(table.name);
    return "fitted";
  }

  private refitDue(collection: string, rows: number, current: StoredWhitening): boolean {
    const removed = Math.max(this.removedSinceFit.get(collection) ?? 0, current.collectionRows - rows);
    return rows >= current.collectionRows * this.policy.refitGrowth || removed >= current.collectionRows * this.policy.refitRemovedShare;
  }

  /**
   * The collection's whitening as a projection of unit vectors, many at a time, or undefined when
   * it has none yet; with `dimensions`, only its strongest axes (see truncateWhitening), and with
   * `product`, the matrix products computed there (see applyWhiteningMany).
   */
  async projection(
    collection: string,
    { dimensions, product }: { readonly dimensions?: number; readonly product?: TransposedProduct } = {},
  ): Promise<Projection | undefined> {
    const stored = await this.current(collection);
    if (!stored) return undefined;
    const whitening = dimensions === undefined ? stored.whitening : truncateWhitening(stored.whitening, dimensions);
    return (vectors) => applyWhiteningMany(whitening, vectors, product);
  }

  async current(collection: string): Promise<StoredWhitening | null> {
    let stored = this.cache.get(collection);
    if (!stored) {
      stored = this.repository.load(collection).then((found) => (found?.space === this.space ? found : null));
      stored.catch(() => this.cache.delete(collection));
      this.cache.set(collection, stored);
    }
    return stored;
  }

  /** Forgets a cached fit (after its collection was dropped). */
  forget(collection: string): void {
    this.cache.delete(collection);
    this.removedSinceFit.delete(collection);
  }
}
