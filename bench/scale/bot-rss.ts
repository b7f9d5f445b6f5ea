/**
 * The bot's memory with a large server indexed: the real bot as a child process (`src/bot/main.ts`,
 * as `npm start`, shipped defaults, the shared model; bench/flood/bot-process.ts) against the fake
 * Discord, its data folder holding a clone of a generated database (bot-db.ts) whose server the fake
 * serves with the same id and the same channel ids as the generated rows. Its resident memory is read
 * from /proc while it answers `/similar`, indexes a photo, and checks a repost of it against every row.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { APIUser } from "discord-api-types/v10";
import { recompress, samplePhotos } from "../../test/support/bot-fixtures.ts";
import { FakeDiscord } from "../../test/support/fake-discord/index.ts";
import { BotProcess, type Memory } from "../flood/bot-process.ts";
import { IndexCounter } from "../flood/index-count.ts";
import { askSimilar, type Query, type QueryResult } from "../flood/queries.ts";
import { type LatencySummary, summarise } from "../flood/report.ts";
import { CHANNELS, channelId } from "../speed/populate.ts";
import { load, round } from "../speed/stats.ts";
import { type BotDatabase, type ClonedDatabase, cloneDatabase, SCALE_GUILD_ID } from "./bot-db.ts";

const STARTUP_TIMEOUT_MS = 180_000;
const QUERY_TIMEOUT_MS = 60_000;
/** How long the repost's alert may take (it waits until the message is 1.5 s old; the check is the rest). */
const ALERT_TIMEOUT_MS = 30_000;
const RSS_EVERY_MS = 500;

export interface BotMemoryPlan {
  /** `/similar` queries before the repost check ("a few searches"). */
  readonly searches: number;
  /** More `/similar` afterwards: the index partitions LanceDB caches grow with the queries seen. */
  readonly moreSearches: number;
  /** Settings on top of the shipped defaults: a baseline run (empty: the bot as shipped). */
  readonly settings?: Readonly<Record<string, string>>;
  readonly log: (line: string) => void;
}

export interface BotMemoryRun {
  readonly rows: number;
  /** The settings changed from the shipped defaults (none: the bot as shipped). */
  readonly settings: Readonly<Record<string, string>>;
  readonly database: Pick<BotDatabase, "reused" | "build"> & Pick<ClonedDatabase, "dataMiB" | "indexMiB">;
  /** Bot start → first `/similar` answered (model load, connect, first search of the table). */
  readonly startupSeconds: number;
  readonly memory: {
    /** When the first `/similar` was answered. */
    readonly ready: Memory | undefined;
    readonly afterSearches: Memory | undefined;
    readonly afterRepostCheck: Memory | undefined;
    readonly afterMoreSearches: Memory | undefined;
    /** RSS every 0.5 s from the bot's start, seconds since then. */
    readonly samples: { t: number; rssMiB: number }[];
  };
  readonly similar: LatencySummary;
  readonly moreSimilar: LatencySummary;
  /** The photo posted before the queries was ranked first by the query that is a copy of it. */
  readonly ownPhotoFirst: boolean;
  readonly repost: { readonly indexed: boolean; readonly alerted: boolean };
  readonly rowsAtEnd: number;
  readonly load: { readonly start: number; readonly end: number };
}

/** Twenty text channels with the generated rows' channel ids, so every row belongs to a visible channel. */
function channels() {
  return Array.from({ length: CHANNELS }, (_, i) => ({ id: channelId(i), name: `channel-${i}` }));
}

export async function measureBotMemory(database: BotDatabase, plan: BotMemoryPlan): Promise<BotMemoryRun> {
  const { log } = plan;
  const loadAtStart = load();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "lookalike-bench-scale-bot-"));
  const cloned = await cloneDatabase(database.lancedbDir, path.join(dataDir, "lancedb"));
  log(`scale: bot data folder ${dataDir} (${cloned.linked} files linked, ${cloned.copied} copied)`);
  // photos[0] is posted (then reposted), photos[1] is the start-up probe, the rest are queries.
  const photos = await samplePhotos(1 + plan.searches + plan.moreSearches);
  if (photos.length < 1 + plan.searches + plan.moreSearches) throw new Error(`only ${photos.length} photos in photo-pool-cc`);
  const fake = await FakeDiscord.start();
  // Another member than the original's poster: a member's own reposts within 24 h are not flagged.
  const bob: APIUser = fake.createUser({ username: "bob" });
  fake.addGuild({ id: SCALE_GUILD_ID, name: "Scale", channels: channels(), members: [{ user: bob }] });
  const [first, second] = [channelId(0), channelId(1)];
  const counter = new IndexCounter(dataDir, SCALE_GUILD_ID);
  const samples: { t: number; rssMiB: number }[] = [];
  let sampler: NodeJS.Timeout | undefined;
  let bot: BotProcess | undefined;
  try {
    const started = performance.now();
    bot = await BotProcess.start(fake, dataDir, plan.settings);
    const running = bot;
    sampler = setInterval(() => {
      void running.memory().then((m) => m && samples.push({ t: round((performance.now() - started) / 1000, 1), rssMiB: m.rssMiB }));
    }, RSS_EVERY_MS);
    log(`scale: bot started (pid ${running.pid}) on ${database.rows} rows, waiting for its first /similar answer`);
    await running.whileRunning(fake.waitForIdentify({ timeoutMs: STARTUP_TIMEOUT_MS }));
    const ask = (query: Query) => running.whileRunning(askSimilar(fake, first, query, QUERY_TIMEOUT_MS, started));
    const probe: Query = { bytes: photos[1]!, originalMessageId: "" };
    while ((await ask(probe)).outcome === "timeout") {
      if (performance.now() - started > STARTUP_TIMEOUT_MS) throw new Error(`the bot never answered /similar:\n${running.outputTail()}`);
    }
    const startupSeconds = round((performance.now() - started) / 1000, 1);
    const ready = await running.memory();

    // One real photo among the generated rows: the first query is a recompressed copy of it.
    const original = await fake.postMessage(first, { attachments: [fake.attachment({ filename: "original.jpg", bytes: photos[0]! })] });
    await expectRows(counter, database.rows + 1, running);
    const queries: Query[] = [
      { bytes: await recompress(photos[0]!), originalMessageId: original.id },
      ...photos.slice(2, 1 + plan.searches).map((bytes) => ({ bytes, originalMessageId: "" })),
    ];
    log(`scale: ${queries.length} /similar`);
    const similar = await series(queries, ask);
    const afterSearches = await running.memory();

    log("scale: a repost of that photo by another member (the bot checks it against every row, then alerts)");
    const cursor = fake.requestCursor();
    const repost = await fake.postMessage(second, {
      author: bob,
      attachments: [fake.attachment({ filename: "repost.jpg", bytes: await recompress(photos[0]!) })],
    });
    const indexed = await counter.waitFor(database.rows + 2, QUERY_TIMEOUT_MS);
    const alerted = await running
      .whileRunning(
        fake.waitForRequest(
          (r) =>
            r.method === "POST" &&
            r.path === `/channels/${second}/messages` &&
            (r.json as { message_reference?: { message_id?: string } } | undefined)?.message_reference?.message_id === repost.id,
          { since: cursor, timeoutMs: ALERT_TIMEOUT_MS },
        ),
      )
      .then(
        () => true,
        () => false,
      );
    const afterRepostCheck = await running.memory();

    log(`scale: ${plan.moreSearches} more /similar`);
    const more = await series(
      photos.slice(1 + plan.searches).map((bytes) => ({ bytes, originalMessageId: "" })),
      ask,
    );
    const afterMoreSearches = plan.moreSearches > 0 ? await running.memory() : undefined;
    const rowsAtEnd = await counter.count();
    clearInterval(sampler);
    await bot.stop();
    bot = undefined;
    return {
      rows: database.rows,
      settings: plan.settings ?? {},
      database: { reused: database.reused, build: database.build, dataMiB: cloned.dataMiB, indexMiB: cloned.indexMiB },
      startupSeconds,
      memory: { ready, afterSearches, afterRepostCheck, afterMoreSearches, samples },
      similar: summarise(similar),
      moreSimilar: summarise(more),
      ownPhotoFirst: similar[0]?.originalFirst ?? false,
      repost: { indexed: indexed.at !== undefined, alerted },
      rowsAtEnd,
      load: { start: loadAtStart, end: load() },
    };
  } finally {
    clearInterval(sampler);
    await bot?.stop();
    counter.close();
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function series(queries: readonly Query[], ask: (query: Query) => Promise<QueryResult>): Promise<QueryResult[]> {
  const results: QueryResult[] = [];
  for (const query of queries) results.push(await ask(query));
  return results;
}

async function expectRows(counter: IndexCounter, rows: number, bot: BotProcess): Promise<void> {
  const seen = await bot.whileRunning(counter.waitFor(rows, QUERY_TIMEOUT_MS));
  if (seen.at === undefined) throw new Error(`the bot stored ${seen.rows} rows, expected ${rows}:\n${bot.outputTail()}`);
}
