/**
 * A process that writes server state as fast as it can, for the kill tests (guild-state.test.ts):
 * `node --import tsx guild-state-writer.ts <database> <first counter> <guild id>...`. Each round
 * updates every given server at once (one shared commit) with the round's counter and a ~20 KB
 * tombstone list, compacting every few commits; once a round is committed it prints the counter on
 * its own line.
 */
import { GuildStateStore } from "../../src/bot/guild-state.ts";

const [database, first, ...guildIds] = process.argv.slice(2);
if (!database || !first || guildIds.length === 0) throw new Error("usage: guild-state-writer.ts <database> <first counter> <guild id>...");
const store = new GuildStateStore(database, { writer: { compactEveryCommits: 4, keepVersionsMs: 0 } });
for (let counter = Number(first); ; counter++) {
  await Promise.all(
    guildIds.map((guildId) =>
      store.update(guildId, (state) => {
        state.backfill.checkpoints["200000000000000000"] = { before: null, done: false, scanned: counter, indexed: counter, skipped: 0 };
        state.deleted.messages = Array.from({ length: 400 }, (_, i) => ({ id: `${300000000000000000n + BigInt(i)}`, at: counter }));
      }),
    ),
  );
  process.stdout.write(`${counter}\n`);
}
