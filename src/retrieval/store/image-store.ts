/**
 * The image index: one LanceDB database (a folder or an object-store prefix, see `database.ts`), one
 * table per collection (a Discord server, or a CLI `--collection`). Connects to the database, opens,
 * lists and drops collections, and refuses a collection built for another vector space. Each
 * collection's rows are a `CollectionTable`; its learned whitening lives in the same database,
 * through `WhiteningRepository`.
 */
import type * as lancedb from "@lancedb/lancedb";
import { LookalikeError } from "../errors.ts";
import { WhiteningRepository } from "../whitening/repository.ts";
import { CollectionTable } from "./collection-table.ts";
import { connectDatabase, type DatabaseLocation } from "./database.ts";
import { DEFAULT_INDEX_POLICY, type IndexPolicy } from "./index-policy.ts";
import { PartsTable } from "./parts-table.ts";
import { imageSchema, readSpace, type VectorSpace } from "./schema.ts";

const COLLECTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const TABLE_PREFIX = "images_";

export function assertCollectionName(name: string): string {
  if (!COLLECTION_NAME.test(name)) {
    const rule = `Collection names are 1–64 letters, digits, "_" or "-"; got ${JSON.stringify(name)}.`;
    throw new LookalikeError("collection_invalid", rule, {
      collection: name,
    });
  }
  return name;
}

export class ImageStore {
  private readonly tables = new Map<string, Promise<CollectionTable>>();
  private readonly partTables = new Map<string, PartsTable>();
  /** Each collection's fitted whitening (the repost check's metric), kept in the same database. */
  readonly whitenings: WhiteningRepository;

  private constructor(
    private readonly db: lancedb.Connection,
    readonly space: VectorSpace,
    readonly policy: IndexPolicy,
  ) {
    this.whitenings = new WhiteningRepository(db);
  }

  /** Opens the database at `location`: a folder or an object-store URI (see `connectDatabase`). */
  static async open(
    location: string | DatabaseLocation,
    space: VectorSpace,
    policy: IndexPolicy = DEFAULT_INDEX_POLICY,
  ): Promise<ImageStore> {
    return new ImageStore(await connectDatabase(location), space, policy);
  }

  async collections(): Promise<string[]> {
    const names = await this.db.tableNames();
    return names.filter((n) => n.startsWith(TABLE_PREFIX)).map((n) => n.slice(TABLE_PREFIX.length));
  }

  /** Opens (creating if needed) a collection; refuses one built with another model or descriptor. */
  collection(name: string): Promise<CollectionTable> {
    assertCollectionName(name);
    let table = this.tables.get(name);
    if (!table) {
      table = this.openTable(name);
      table.catch(() => this.tables.delete(name));
      this.tables.set(name, table);
    }
    return table;
  }

  /** The collection's image parts (regions and cells), beside its images. */
  parts(name: string): PartsTable {
    assertCollectionName(name);
    let table = this.partTables.get(name);
    if (!table) {
      table = new PartsTable(this.db, name);
      this.partTables.set(name, table);
    }
    return table;
  }

  /** Every collection with its size and what built it, without opening it for writing. */
  async summary(): Promise<{ name: string; rows: number; space: VectorSpace }[]> {
    const result = [];
    for (const name of await this.collections()) {
      const table = await this.db.openTable(TABLE_PREFIX + name);
      result.push({ name, rows: await table.countRows(), space: readSpace(await table.schema()) });
      table.close();
    }
    return result;
  }

  async dropCollection(name: string): Promise<void> {
    assertCollectionName(name);
    this.tables.delete(name);
    await this.whitenings.drop(name);
    await this.parts(name).drop();
    this.partTables.delete(name);
    if ((await this.db.tableNames()).includes(TABLE_PREFIX + name)) await this.db.dropTable(TABLE_PREFIX + name);
  }

  close(): void {
    this.db.close();
  }

  private async openTable(name: string): Promise<CollectionTable> {
    const tableName = TABLE_PREFIX + name;
    const existing = (await this.db.tableNames()).includes(tableName);
    const table = existing
      ? await this.db.openTable(tableName)
      : await this.db.createEmptyTable(tableName, imageSchema(this.space), { existOk: true });
    const stored = readSpace(await table.schema());
    if (stored.model !== this.space.model || stored.descriptor !== this.space.descriptor || stored.dimension !== this.space.dimension) {
      table.close();
      throw new LookalikeError(
        "model_mismatch",
        `Collection "${name}" was indexed with model ${stored.model} and descriptor ${stored.descriptor} ` +
          `(${stored.dimension}-d), but this run uses ${this.space.model} / ${this.space.descriptor} (${this.space.dimension}-d). ` +
          `Vectors from different models cannot be compared: run with the collection's settings, or re-index it ` +
          `(delete the collection, e.g. \`lookalike drop --collection ${name}\`, then index again).`,
        { collection: name, stored, wanted: this.space },
      );
    }
    return new CollectionTable(name, table, this.policy);
  }
}
