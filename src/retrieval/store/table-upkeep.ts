/**
 * Upkeep every table of a collection shares (the images' and their parts'): scalar indexes created
 * once each, and compaction of the fragments writes leave behind.
 */
import * as lancedb from "@lancedb/lancedb";

export type ScalarIndexKind = "bitmap" | "btree";

/** Creates the indexes the table does not have yet (cheap: under half a second each at 1M rows). */
export async function ensureScalarIndexes(table: lancedb.Table, indexes: Readonly<Record<string, ScalarIndexKind>>): Promise<void> {
  const indexed = new Set((await table.listIndices()).flatMap((index) => index.columns));
  for (const [column, kind] of Object.entries(indexes)) {
    const config = kind === "bitmap" ? lancedb.Index.bitmap() : lancedb.Index.btree();
    if (!indexed.has(column)) await table.createIndex(column, { config, replace: true });
  }
}

/**
 * Merges the fragments writes left behind and folds new rows into the indexes. Versions younger
 * than a minute survive, for readers elsewhere that may still be on them.
 */
export async function compactTable(table: lancedb.Table): Promise<void> {
  await table.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) });
}
