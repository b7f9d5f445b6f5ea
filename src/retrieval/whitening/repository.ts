/**
 * Where each collection's whitening is kept: a one-row LanceDB table beside the collection's
 * images (`whitening_<collection>`), so it lives and dies with the database folder, a rewrite is
 * one atomic commit (a process killed mid-write leaves the previous fit), and dropping the
 * collection drops it too.
 */
import type * as lancedb from "@lancedb/lancedb";
import { arrow } from "../arrow.ts";
import type { Whitening } from "../whitening.ts";

/** A whitening and what it was fitted on. */
export interface StoredWhitening {
  readonly whitening: Whitening;
  /** Rows in the collection when it was fitted (a refit is due once the collection has grown). */
  readonly collectionRows: number;
  /** Vectors the fit actually used (a sample of at most the policy's `sampleRows`). */
  readonly sampleRows: number;
  /** The vector space it whitens (`model` + `descriptor`); a fit for another space is ignored. */
  readonly space: string;
  readonly fittedAt: Date;
}

const TABLE_PREFIX = "whitening_";

function schema() {
  const { Field, Utf8, Int32, Binary, TimestampMillisecond } = arrow;
  return new arrow.Schema([
    new Field("space", new Utf8(), false),
    new Field("collection_rows", new Int32(), false),
    new Field("sample_rows", new Int32(), false),
    new Field("fitted_at", new TimestampMillisecond(), false),
    new Field("input_dimension", new Int32(), false),
    new Field("output_dimension", new Int32(), false),
    new Field("mean", new Binary(), false),
    new Field("projection", new Binary(), false),
    new Field("eigenvalues", new Binary(), false),
  ]);
}

const bytes = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Copies out of Arrow's buffer (which may be unaligned for the element size) into a fresh array. */
function floats<T extends Float32Array | Float64Array>(value: unknown, make: (buffer: ArrayBuffer) => T): T {
  const view = value as Uint8Array;
  return make(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer);
}

export class WhiteningRepository {
  constructor(private readonly db: lancedb.Connection) {}

  /** The collection's fit, or null when it has none (also when it is dropped while being read). */
  async load(collection: string): Promise<StoredWhitening | null> {
    try {
      return await this.read(TABLE_PREFIX + collection);
    } catch (error) {
      // A fit dropped between the listing and the read (the collection shrank) is no fit.
      if (error instanceof Error && /not found/i.test(error.message)) return null;
      throw error;
    }
  }

  private async read(name: string): Promise<StoredWhitening | null> {
    if (!(await this.db.tableNames()).includes(name)) return null;
    const table = await this.db.openTable(name);
    try {
      const [row] = (await table.query().limit(1).toArray()) as Record<string, unknown>[];
      if (!row) return null;
      return {
        space: String(row.space),
        collectionRows: Number(row.collection_rows),
        sampleRows: Number(row.sample_rows),
        fittedAt: new Date(Number(row.fitted_at)),
        whitening: {
          inputDimension: Number(row.input_dimension),
          outputDimension: Number(row.output_dimension),
          mean: floats(row.mean, (b) => new Float32Array(b)),
          projection: floats(row.projection, (b) => new Float32Array(b)),
          eigenvalues: floats(row.eigenvalues, (b) => new Float64Array(b)),
        },
      };
    } finally {
      table.close();
    }
  }

  async save(collection: string, stored: StoredWhitening): Promise<void> {
    const { whitening: w } = stored;
    const row = {
      space: stored.space,
      collection_rows: stored.collectionRows,
      sample_rows: stored.sampleRows,
      fitted_at: stored.fittedAt,
      input_dimension: w.inputDimension,
      output_dimension: w.outputDimension,
      mean: bytes(w.mean),
      projection: bytes(w.projection),
      eigenvalues: bytes(w.eigenvalues),
    };
    const table = await this.db.createTable(TABLE_PREFIX + collection, [row], { mode: "overwrite", schema: schema() });
    table.close();
  }

  async drop(collection: string): Promise<void> {
    const name = TABLE_PREFIX + collection;
    if ((await this.db.tableNames()).includes(name)) await this.db.dropTable(name);
  }
}
