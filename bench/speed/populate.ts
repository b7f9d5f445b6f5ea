/**
 * Bulk-loads synthetic rows into a collection table. The table is created through ImageStore (so
 * the schema is exactly the product's), then filled with Arrow record batches on a second
 * connection: 1M rows through `upsert()` (merge-insert, plain objects) would take far longer than
 * the searches being measured, and the write path is measured separately by the ingest benchmark.
 */
import * as lancedb from "@lancedb/lancedb";
import type { Data, DataType, Schema } from "apache-arrow";
import { arrow } from "../../src/retrieval/arrow.ts";
import { ImageStore } from "../../src/retrieval/store/image-store.ts";
import type { VectorSpace } from "../../src/retrieval/store/schema.ts";
import type { RowSource } from "./synthetic.ts";

export const TABLE_PREFIX = "images_";
/** Rows are spread over this many channels; the filtered searches ask for one of them (5%). */
export const CHANNELS = 20;
export const channelId = (row: number): string => String(1_000_000 + (row % CHANNELS));
export const FILTER_CHANNEL = channelId(7);

export function benchSpace(dimension: number): VectorSpace {
  return { model: "bench-synthetic", descriptor: "gem", dimension };
}

/** Creates collection `name` (empty) with the product's schema. */
export async function createCollection(dir: string, name: string, dimension: number): Promise<void> {
  const store = await ImageStore.open(dir, benchSpace(dimension));
  (await store.collection(name)).close();
  store.close();
}

function utf8(values: string[]): Data {
  return arrow.vectorFromArray(values, new arrow.Utf8()).data[0]!;
}

/**
 * One record batch of `count` rows starting at row `first`, with vectors from `vectors` (row-major).
 * Columns are built by name from the table's own schema; a nullable column this file does not know
 * (added to the product later) is left null.
 */
export function recordBatch(schema: Schema, collection: string, first: number, count: number, vectors: Float32Array) {
  const strings = (make: (row: number) => string) => utf8(Array.from({ length: count }, (_, i) => make(first + i)));
  const hashes = () => {
    const bytes = new Uint8Array(count * 8);
    for (let i = 0; i < count; i++) bytes[i * 8] = (first + i) & 0xff;
    return arrow.makeData({ type: new arrow.FixedSizeBinary(8), length: count, data: bytes });
  };
  // Every column gets its own buffer: Arrow's IPC writer miscounts a buffer shared by two columns.
  const int32 = (value: number) => arrow.makeData({ type: new arrow.Int32(), length: count, data: new Int32Array(count).fill(value) });
  const columns: Record<string, (type: DataType) => Data> = {
    id: () => strings((row) => String(10_000_000_000 + row)),
    collection: () => strings(() => collection),
    channel_id: () => strings(channelId),
    message_id: () => strings((row) => String(20_000_000_000 + row)),
    author_id: () => strings((row) => String(3_000 + (row % 500))),
    created_at: (type) => {
      const millis = BigInt64Array.from({ length: count }, (_, i) => BigInt(1_700_000_000_000 + (first + i) * 1000));
      return arrow.makeData({ type: type as InstanceType<typeof arrow.TimestampMillisecond>, length: count, data: millis });
    },
    source: () => strings((row) => `https://cdn.example/${row}.jpg`),
    width: () => int32(512),
    height: () => int32(384),
    phash: hashes,
    dhash: hashes,
    spoiler: () => arrow.makeData({ type: new arrow.Bool(), length: count, data: new Uint8Array(Math.ceil(count / 8)) }),
    vector: (type) =>
      arrow.makeData({
        type: type as InstanceType<typeof arrow.FixedSizeList>,
        length: count,
        child: arrow.makeData({ type: new arrow.Float32(), length: vectors.length, data: vectors }),
      }),
  };
  const children = schema.fields.map((field) => {
    const make = columns[field.name];
    if (make) return make(field.type as DataType);
    if (!field.nullable) throw new Error(`bench/speed/populate.ts does not know the required column "${field.name}"`);
    return arrow.vectorFromArray(new Array<null>(count).fill(null), field.type as DataType).data[0]!;
  });
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: count, children });
  return new arrow.RecordBatch(schema, struct);
}

export interface PopulateResult {
  readonly rows: number;
  readonly seconds: number;
}

/**
 * Appends `rows` generated rows (row numbers `first`…) to collection `name` in chunks; `onChunk`
 * sees each chunk's vectors (e.g. to keep some as queries).
 */
export async function populate(
  dir: string,
  name: string,
  generator: RowSource,
  rows: number,
  options: { first?: number; chunk?: number; onChunk?: (first: number, vectors: Float32Array, count: number) => void } = {},
): Promise<PopulateResult> {
  const started = performance.now();
  const db = await lancedb.connect(dir);
  const table = await db.openTable(TABLE_PREFIX + name);
  const schema = (await table.schema()) as unknown as Schema;
  const chunk = options.chunk ?? 50_000;
  const first = options.first ?? 0;
  const d = generator.dimension;
  for (let done = 0; done < rows; done += chunk) {
    const count = Math.min(chunk, rows - done);
    const vectors = new Float32Array(count * d);
    generator.fill(vectors, count);
    options.onChunk?.(first + done, vectors, count);
    const batch = recordBatch(schema, name, first + done, count, vectors);
    await table.add(new arrow.Table(schema, batch) as never);
  }
  table.close();
  db.close();
  return { rows, seconds: (performance.now() - started) / 1000 };
}
