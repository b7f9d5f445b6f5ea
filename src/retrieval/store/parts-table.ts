/**
 * Each collection's image parts (regional descriptors and cells, see regions/parts.ts): a LanceDB
 * table beside the images (`parts_<collection>`), one row per image id, written with the same
 * idempotent upsert and deleted with the image. A separate table, so collections indexed before
 * parts existed keep their schema and simply have no parts for their older images.
 */
import type * as lancedb from "@lancedb/lancedb";
import { arrow } from "../arrow.ts";
import { idsWhere } from "../filters.ts";
import { decodeParts, encodeParts, type ImageParts } from "../regions/parts.ts";
import { SCALAR_INDEXES } from "./index-policy.ts";
import { compactTable, ensureScalarIndexes } from "./table-upkeep.ts";

const TABLE_PREFIX = "parts_";

function schema() {
  const { Field, Utf8, Binary } = arrow;
  return new arrow.Schema([new Field("id", new Utf8(), false), new Field("parts", new Binary(), false)]);
}

/** Ids per `get` or `delete` statement: keeps the SQL short whatever the batch. */
const IDS_PER_STATEMENT = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class PartsTable {
  private table: Promise<lancedb.Table | null> | undefined;

  constructor(
    private readonly db: lancedb.Connection,
    readonly collection: string,
  ) {}

  private get name(): string {
    return TABLE_PREFIX + this.collection;
  }

  /** The table, or null while nothing was written (reads then find nothing); `create` makes it. */
  private async open(create: boolean): Promise<lancedb.Table | null> {
    if (!this.table) {
      const finding = this.db.tableNames().then((names) => (names.includes(this.name) ? this.db.openTable(this.name) : null));
      finding.catch(() => (this.table = undefined));
      this.table = finding;
    }
    const table = await this.table;
    if (table || !create) return table;
    this.table = this.db.createEmptyTable(this.name, schema(), { existOk: true });
    return this.table;
  }

  async upsert(rows: readonly { id: string; parts: ImageParts }[]): Promise<void> {
    if (rows.length === 0) return;
    const table = await this.open(true);
    await table!
      .mergeInsert("id")
      .whenMatchedUpdateAll()
      .whenNotMatchedInsertAll()
      .execute(rows.map((row) => ({ id: row.id, parts: encodeParts(row.parts) })));
  }

  /** The parts of those ids that have them (older rows and other versions have none). */
  async get(ids: readonly string[]): Promise<Map<string, ImageParts>> {
    const found = new Map<string, ImageParts>();
    const table = ids.length > 0 ? await this.open(false) : null;
    if (!table) return found;
    for (const batch of chunks([...new Set(ids)], IDS_PER_STATEMENT)) {
      const rows = (await table.query().where(idsWhere(batch)).select(["id", "parts"]).toArray()) as { id: string; parts: Uint8Array }[];
      for (const row of rows) {
        const parts = decodeParts(row.parts);
        if (parts) found.set(String(row.id), parts);
      }
    }
    return found;
  }

  async delete(ids: readonly string[]): Promise<void> {
    const table = ids.length > 0 ? await this.open(false) : null;
    if (!table) return;
    for (const batch of chunks([...new Set(ids)], IDS_PER_STATEMENT)) await table.delete(idsWhere(batch));
  }

  /**
   * A btree on id once the table has rows: every upsert joins on id, and without it reads every id
   * in the table (SCALAR_INDEXES, index-policy.ts). Cheap at any size; a no-op once it exists.
   */
  async maintain(): Promise<void> {
    const table = await this.open(false);
    if (table && (await table.countRows()) > 0) await ensureScalarIndexes(table, { id: SCALAR_INDEXES.id });
  }

  /** Merges the fragments writes leave behind, and folds new rows into the id index. */
  async compact(): Promise<void> {
    const table = await this.open(false);
    if (table) await compactTable(table);
  }

  async drop(): Promise<void> {
    this.table = undefined;
    if ((await this.db.tableNames()).includes(this.name)) await this.db.dropTable(this.name);
  }
}
