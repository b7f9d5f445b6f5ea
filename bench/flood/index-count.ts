/**
 * How many images the bot has stored, read from outside: the bot's LanceDB opened read-only by
 * this process. Asking the bot (`/lookalike stats`) would add work to the very queue being measured
 * and wait behind it; a row count reads only the table's manifest.
 */
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import * as lancedb from "@lancedb/lancedb";

/** The store's table naming (src/retrieval/store/image-store.ts): one table per server, `images_<guildId>`. */
const tableName = (guildId: string) => `images_${guildId}`;

export class IndexCounter {
  private connection: lancedb.Connection | undefined;
  private table: lancedb.Table | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly guildId: string,
  ) {}

  /** Rows stored so far; 0 before the bot created the table. */
  async count(): Promise<number> {
    try {
      // Consistency interval 0: every read looks for the newest version the bot committed.
      this.connection ??= await lancedb.connect(path.join(this.dataDir, "lancedb"), { readConsistencyInterval: 0 });
      if (!this.table) {
        if (!(await this.connection.tableNames()).includes(tableName(this.guildId))) return 0;
        this.table = await this.connection.openTable(tableName(this.guildId));
      }
      return await this.table.countRows();
    } catch {
      // The bot may be compacting (old files vanish under a reader): reopen on the next poll.
      this.table?.close();
      this.table = undefined;
      return Number.NaN;
    }
  }

  /**
   * Polls until at least `target` rows are stored; resolves with when that was seen
   * (performance.now()) or, after `timeoutMs`, with `at: undefined` and the last count.
   */
  async waitFor(target: number, timeoutMs: number, everyMs = 100): Promise<{ at: number | undefined; rows: number }> {
    const deadline = performance.now() + timeoutMs;
    let rows = 0;
    for (;;) {
      const counted = await this.count();
      if (Number.isFinite(counted)) rows = counted;
      if (rows >= target) return { at: performance.now(), rows };
      if (performance.now() > deadline) return { at: undefined, rows };
      await sleep(everyMs);
    }
  }

  close(): void {
    this.table?.close();
    this.connection?.close();
  }
}
