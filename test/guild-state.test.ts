/**
 * The `guild_state` table behind GuildStateStore: importing the JSON files of older data
 * directories, group commits and compaction, failed commits, and a writer process killed mid-write.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { GuildStateStore, parseGuildState } from "../src/bot/guild-state.ts";
import { connectStateDatabase, GuildStateTable } from "../src/bot/state/guild-state-table.ts";
import { StateWriter } from "../src/bot/state/state-writer.ts";
import { databaseBackends } from "./support/object-store.ts";
import { readGuildStateFile, waitUntil } from "./support/polling.ts";
import { tempDir } from "./support/temp.ts";

/** A pino-shaped logger that keeps what it is given. */
function recordingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message = "") =>
      void lines.push({ level, fields, message });
  return { lines, logger: { info: at("info"), warn: at("warn"), debug: at("debug") } };
}

/** A state file as the JSON-file store wrote it (two-space indented, every field present). */
function oldStateFile(overrides: (state: ReturnType<typeof parseGuildState>) => void): string {
  const state = parseGuildState(undefined);
  overrides(state);
  return `${JSON.stringify(state, null, 2)}\n`;
}

describe("GuildStateStore: state files from before the database", () => {
  it("imports data/guilds once (validated, rows already in the table win), logs it, and renames the folder", async () => {
    const dataDir = await tempDir();
    const guilds = path.join(dataDir, "guilds");
    const database = path.join(dataDir, "lancedb");
    await mkdir(guilds);
    const full = oldStateFile((s) => {
      s.settings.action = "log";
      s.settings.logChannelId = "900000000000000000";
      s.optedOutUserIds.push("42");
      s.notReposts.push({ originalId: "700000000000000000", phash: "0123456789abcdef" });
      s.backfill.checkpoints["500000000000000000"] = { before: "600000000000000000", done: false, scanned: 250, indexed: 3, skipped: 1 };
      s.live.since = "800000000000000000";
      s.deleted.messages.push({ id: "610000000000000000", at: 1_700_000_000_000 });
    });
    await writeFile(path.join(guilds, "111111111111111111.json"), full);
    // An early file, before most fields existed: the defaults fill them in.
    await writeFile(path.join(guilds, "222222222222222222.json"), JSON.stringify({ settings: { sensitivity: "strict" } }));
    // Already in the database (another process migrated it, or it was written since): kept.
    await writeFile(path.join(guilds, "333333333333333333.json"), JSON.stringify({ settings: { enabled: false } }));
    // Not state: a half-written temp file, a file that fails validation, and something else.
    await writeFile(path.join(guilds, "111111111111111111.json.4242.tmp"), "{ half a fil");
    await writeFile(path.join(guilds, "444444444444444444.json"), JSON.stringify({ settings: { action: "explode" } }));
    await writeFile(path.join(guilds, "notes.txt"), "hello");

    const earlier = new GuildStateStore(database);
    await earlier.update("333333333333333333", (s) => void (s.settings.sensitivity = "loose"));
    await earlier.close();

    const { lines, logger } = recordingLogger();
    const store = await GuildStateStore.open(database, { legacyDir: guilds, logger });
    const migrated = lines.filter((line) => line.level === "info");
    assert.equal(migrated.length, 1, "one line per migrated folder");
    assert.equal(migrated[0]!.message, `migrated 2 servers' settings from ${guilds} into the database`);
    assert.deepEqual({ ...migrated[0]!.fields }, { from: guilds, to: `${guilds}.migrated`, imported: 2, alreadyStored: 1, invalid: 1 });
    assert.deepEqual(
      lines.filter((line) => line.level === "warn").map((line) => line.fields.file),
      [path.join(guilds, "444444444444444444.json")],
    );

    assert.deepEqual(await store.get("111111111111111111"), JSON.parse(full));
    const early = await store.get("222222222222222222");
    assert.equal(early.settings.sensitivity, "strict");
    assert.equal(early.settings.action, "reply");
    assert.deepEqual(early.backfill.checkpoints, {});
    const kept = await store.get("333333333333333333");
    assert.equal(kept.settings.sensitivity, "loose", "the row already in the table wins");
    assert.equal(kept.settings.enabled, true);
    assert.equal((await store.get("444444444444444444")).settings.action, "reply", "an invalid file is not imported");
    await store.close();

    // Nothing is lost: every file is still there, under the new name; the old name is gone.
    const entries = await readdir(dataDir);
    assert.ok(entries.includes("guilds.migrated") && !entries.includes("guilds"), entries.join(", "));
    assert.equal(await readFile(path.join(`${guilds}.migrated`, "111111111111111111.json"), "utf8"), full);
    assert.equal((await readdir(`${guilds}.migrated`)).length, 6);

    // The next start imports nothing and says nothing; another process reads the same rows.
    const next = recordingLogger();
    const reopened = await GuildStateStore.open(database, { legacyDir: guilds, logger: next.logger });
    assert.deepEqual(next.lines, []);
    assert.equal((await reopened.get("111111111111111111")).settings.action, "log");
    assert.equal((await readGuildStateFile(dataDir, "222222222222222222"))?.settings.sensitivity, "strict");

    // A guilds/ folder that turns up again (an old backup restored) is imported beside the first.
    await reopened.update("111111111111111111", (s) => void (s.settings.action = "react"));
    await mkdir(guilds);
    await writeFile(path.join(guilds, "111111111111111111.json"), full);
    await writeFile(path.join(guilds, "555555555555555555.json"), JSON.stringify({ optedOutUserIds: ["7"] }));
    await reopened.close();
    const again = recordingLogger();
    const third = await GuildStateStore.open(database, { legacyDir: guilds, logger: again.logger });
    assert.deepEqual(
      again.lines.map((line) => [line.level, line.fields.to, line.fields.imported]),
      [["info", `${guilds}.migrated-2`, 1]],
    );
    assert.equal((await third.get("111111111111111111")).settings.action, "react", "the newer row is not overwritten");
    assert.deepEqual((await third.get("555555555555555555")).optedOutUserIds, ["7"]);
    await third.close();
  });
});

describe("GuildStateStore: writes and compaction", () => {
  it("shares commits between servers, keeps each server's updates in order, and compacts every so many commits", async () => {
    const database = await tempDir();
    const store = new GuildStateStore(database, { writer: { compactEveryCommits: 8, keepVersionsMs: 0 } });
    const guildIds = Array.from({ length: 20 }, (_, i) => `${100000000000000000n + BigInt(i)}`);
    await store.get(guildIds[0]!);
    const db = await connectStateDatabase(database);
    const table = await GuildStateTable.open(db);
    const before = await table.version();

    // 20 servers × 5 updates, all at once: each server's updates apply in order, and they go out
    // in far fewer commits than 100.
    await Promise.all(
      guildIds.flatMap((guildId) =>
        Array.from({ length: 5 }, (_, n) => store.update(guildId, (s) => void s.optedOutUserIds.push(String(n)))),
      ),
    );
    const commits = (await table.version()) - before;
    assert.ok(commits <= 12, `${commits} versions for 100 updates`);
    for (const guildId of guildIds) {
      assert.deepEqual((await readGuildStateFile("", guildId, database))?.optedOutUserIds, ["0", "1", "2", "3", "4"]);
    }

    // One server at a time: a commit each, compacted every 8 — fragments never pile up.
    let mostFragments = 0;
    for (let n = 0; n < 40; n++) {
      await store.update(guildIds[n % guildIds.length]!, (s) => void (s.settings.lookbackDays = n));
      mostFragments = Math.max(mostFragments, await table.fragmentCount());
    }
    assert.ok(mostFragments <= 10, `at most ${mostFragments} fragments`);
    assert.deepEqual(await table.guildIds().then((ids) => ids.sort()), guildIds, "one row per server");

    // An invalid change is refused before anything is written.
    await assert.rejects(store.update(guildIds[0]!, (s) => void (s.settings.lookbackDays = -1)));
    assert.equal((await store.get(guildIds[0]!)).settings.lookbackDays, 20);

    // Removing a server deletes its row.
    await store.remove(guildIds[1]!);
    assert.equal(await readGuildStateFile("", guildIds[1]!, database), undefined);
    assert.equal((await table.guildIds()).length, 19);
    await store.close();
    await assert.rejects(
      store.update(guildIds[0]!, () => {}),
      /closed/,
    );
    table.close();
    db.close();
  });

  it("refuses a stored document that is not valid state", async () => {
    const database = await tempDir();
    const db = await connectStateDatabase(database);
    const table = await GuildStateTable.open(db);
    await table.upsert([{ guildId: "123", state: JSON.stringify({ settings: { sensitivity: "extreme" } }) }]);
    const store = new GuildStateStore(database);
    await assert.rejects(store.get("123"), /sensitivity/);
    await store.close();
    table.close();
    db.close();
  });
});

for (const backend of databaseBackends()) {
  describe(`GuildStateStore: two shards' stores writing one table, on ${backend.name}`, () => {
    before(() => backend.start());
    after(() => backend.stop());

    it("keeps every server's every update while both commit and compact at once", async () => {
      const database = await backend.fresh();
      // The table exists before the shards start, as the shard manager creates it (manager.ts): two
      // first creations racing commit as two Overwrites, and a write between them is rejected.
      await (await GuildStateStore.open(database)).close();
      // Each store has its own connection, as each shard process has. Versions stay a minute after a
      // compaction, as in the bot: the other writer's conflict check reads the ones it missed
      // (LanceDB 0.31 panics when they are gone).
      const shards = [0, 1].map(() => new GuildStateStore(database, { writer: { compactEveryCommits: 4, keepVersionsMs: 60_000 } }));
      const guildIds = Array.from({ length: 6 }, (_, i) => `${200000000000000000n + BigInt(i)}`);
      const owner = (i: number) => shards[i % 2]!;
      // One server at a time per shard, so each shard commits (and compacts) often, interleaved.
      await Promise.all(
        [0, 1].map(async (shard) => {
          for (let n = 0; n < 8; n++)
            for (const [i, guildId] of guildIds.entries())
              if (i % 2 === shard) await owner(i).update(guildId, (s) => void s.optedOutUserIds.push(String(n)));
        }),
      );
      await Promise.all(shards.map((store) => store.close()));
      for (const guildId of guildIds) {
        const state = await readGuildStateFile("", guildId, database);
        assert.deepEqual(state?.optedOutUserIds, ["0", "1", "2", "3", "4", "5", "6", "7"], guildId);
      }
    });
  });
}

describe("StateWriter", () => {
  it("a failed commit fails only its own writes, and a failed compaction only logs", async () => {
    const commits: string[][] = [];
    let failNext = false;
    const table = {
      async upsert(documents: readonly { guildId: string }[]) {
        if (failNext) {
          failNext = false;
          throw new Error("disk full");
        }
        commits.push(documents.map((d) => d.guildId));
      },
      async delete(guildIds: readonly string[]) {
        commits.push(guildIds.map((id) => `-${id}`));
      },
      async compact() {
        throw new Error("conflict");
      },
    } as unknown as GuildStateTable;
    const { lines, logger } = recordingLogger();
    const writer = new StateWriter(table, logger, { compactEveryCommits: 2, keepVersionsMs: 0 });
    // Written in the same tick: one commit for the upserts, one for the delete.
    await Promise.all([writer.put("1", "{}"), writer.put("2", "{}"), writer.delete("3"), writer.put("1", '{"a":1}')]);
    assert.deepEqual(commits, [["-3"], ["1", "2"]]);
    failNext = true;
    await assert.rejects(writer.put("4", "{}"), /disk full/);
    await writer.put("5", "{}");
    await writer.flush();
    assert.deepEqual(commits.at(-1), ["5"]);
    assert.equal(lines.filter((line) => line.level === "warn" && /could not compact/.test(line.message)).length, 1);
  });
});

const WRITER = fileURLToPath(new URL("./support/guild-state-writer.ts", import.meta.url));

describe("GuildStateStore: a writer process killed mid-write", () => {
  it("leaves the last committed state, valid, after every kill", async () => {
    const database = await tempDir();
    const guildIds = ["100000000000000001", "100000000000000002"];
    let counter = 1;
    // Kills at different points of the write loop: early, after compactions, later.
    for (const rounds of [3, 11, 26]) {
      const child = spawn(process.execPath, ["--import", "tsx", WRITER, database, String(counter), ...guildIds], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      const committed = () =>
        output
          .split("\n")
          .slice(0, -1) // the last piece may be a line still being written
          .filter((line) => /^\d+$/.test(line))
          .map(Number);
      // "close", not "exit": every line the writer printed has been read by then.
      const closed = once(child, "close");
      try {
        await waitUntil("the writer's rounds", () => {
          if (child.exitCode !== null) throw new Error(`writer exited:\n${output}`);
          return committed().length >= rounds;
        });
      } finally {
        // Also when the wait failed: the writer never stops on its own.
        child.kill("SIGKILL");
        await closed;
      }
      const acknowledged = Math.max(...committed());

      for (const guildId of guildIds) {
        const state = await readGuildStateFile("", guildId, database);
        assert.ok(state, `server ${guildId} has state`);
        const scanned = state.backfill.checkpoints["200000000000000000"]?.scanned ?? 0;
        // Every acknowledged round is there; at most the round in flight went further.
        assert.ok(scanned >= acknowledged && scanned <= acknowledged + 1, `scanned ${scanned}, acknowledged ${acknowledged}`);
        assert.equal(state.deleted.messages.length, 400);
        counter = Math.max(counter, scanned + 1);
      }
    }
    // The table still takes writes and compactions.
    const store = new GuildStateStore(database);
    await store.update(guildIds[0]!, (s) => void (s.settings.enabled = false));
    await store.compact();
    assert.equal((await readGuildStateFile("", guildIds[0]!, database))?.settings.enabled, false);
    await store.close();
  });
});
