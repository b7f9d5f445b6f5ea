/**
 * Sharding's parts, without processes: which shard owns a server (table), the settings and their
 * one-line problems, the write guard refusing another shard's server in the index and the state
 * store, cached state read again when a server becomes available, and identify requests carried
 * between a shard process and its manager.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import type { IIdentifyThrottler, Shard } from "discord.js";
import pino from "pino";
import { ConfigError, loadConfig } from "../src/bot/config.ts";
import { GuildStateStore } from "../src/bot/guild-state.ts";
import { GuildIndex } from "../src/bot/services/guild-index.ts";
import { type ManagerChannel, ManagerIdentifyThrottler, serveIdentifies } from "../src/bot/sharding/identify-queue.ts";
import { describeShard, ownsGuild, shardOfGuild } from "../src/bot/sharding/ownership.ts";
import { shardingSetting } from "../src/bot/sharding/settings.ts";
import { shardClientOptions } from "../src/bot/sharding/shard-client.ts";
import { GuildNotOwnedError, GuildWriteGuard } from "../src/bot/sharding/write-guard.ts";
import type { LookalikeEngine } from "../src/retrieval/engine.ts";
import { tempDir } from "./support/temp.ts";

/** A server id whose timestamp bits are `ms` (the low 22 bits set, which must not matter). */
const guildAt = (ms: number) => String((BigInt(ms) << 22n) | 0x3fffffn);

describe("which shard owns a server", () => {
  const cases: [guildId: string, shardCount: number, owner: number][] = [
    ["81384788765712384", 1, 0],
    ["81384788765712384", 2, 0],
    ["81384788765712384", 3, 1],
    ["81384788765712384", 16, 2],
    ["197038439483310086", 3, 2],
    [guildAt(5), 2, 1],
    [guildAt(5), 3, 2],
    [guildAt(6), 3, 0],
    [guildAt(0), 7, 0],
  ];
  for (const [guildId, count, owner] of cases) {
    it(`server ${guildId} with ${count} shards: shard ${owner}`, () => {
      assert.equal(shardOfGuild(guildId, count), owner);
      for (let id = 0; id < count; id++) assert.equal(ownsGuild(guildId, { id, count }), id === owner);
    });
  }

  it("a bot without shards owns every server", () => {
    assert.equal(ownsGuild(guildAt(5), null), true);
    assert.equal(describeShard({ id: 1, count: 2 }), "shard 1 of 2");
  });
});

describe("sharding settings", () => {
  const plan = (env: Record<string, string>) => shardingSetting(env);
  const cases: [name: string, env: Record<string, string>, expected: ReturnType<typeof shardingSetting>["plan"]][] = [
    ["unset: no sharding", {}, null],
    ["blank: no sharding", { LOOKALIKE_SHARDS: " " }, null],
    ["auto", { LOOKALIKE_SHARDS: "auto" }, { totalShards: "auto", shardIds: null }],
    ["a count", { LOOKALIKE_SHARDS: "4" }, { totalShards: 4, shardIds: null }],
    ["a machine's slice", { LOOKALIKE_SHARD_COUNT: "8", LOOKALIKE_SHARD_IDS: "0,1, 4-6,5" }, { totalShards: 8, shardIds: [0, 1, 4, 5, 6] }],
    ["the same count twice", { LOOKALIKE_SHARDS: "2", LOOKALIKE_SHARD_COUNT: "2" }, { totalShards: 2, shardIds: null }],
  ];
  for (const [name, env, expected] of cases) {
    it(name, () => {
      const setting = plan(env);
      assert.deepEqual(setting.problems, []);
      assert.deepEqual(setting.plan, expected);
      assert.equal(setting.shard, null);
    });
  }

  const bad: [name: string, env: Record<string, string>, variable: string, text: RegExp][] = [
    ["count 0", { LOOKALIKE_SHARDS: "0" }, "LOOKALIKE_SHARDS", /at least 1/],
    ["not a count", { LOOKALIKE_SHARDS: "two" }, "LOOKALIKE_SHARDS", /"auto" or a number/],
    ["count 0 (several machines)", { LOOKALIKE_SHARD_COUNT: "0", LOOKALIKE_SHARD_IDS: "0" }, "LOOKALIKE_SHARD_COUNT", /at least 1/],
    [
      "ids outside the count",
      { LOOKALIKE_SHARD_COUNT: "2", LOOKALIKE_SHARD_IDS: "1-3" },
      "LOOKALIKE_SHARD_IDS",
      /shard 2, 3 is outside the 2 shards/,
    ],
    ["a reversed range", { LOOKALIKE_SHARD_COUNT: "4", LOOKALIKE_SHARD_IDS: "3-1,x" }, "LOOKALIKE_SHARD_IDS", /not: 3-1, x/],
    ["ids without a count", { LOOKALIKE_SHARD_IDS: "0" }, "LOOKALIKE_SHARD_IDS", /needs LOOKALIKE_SHARD_COUNT/],
    ["ids with auto", { LOOKALIKE_SHARDS: "auto", LOOKALIKE_SHARD_IDS: "0" }, "LOOKALIKE_SHARD_IDS", /not auto/],
    ["two counts", { LOOKALIKE_SHARDS: "2", LOOKALIKE_SHARD_COUNT: "3" }, "LOOKALIKE_SHARD_COUNT", /disagrees with LOOKALIKE_SHARDS=2/],
  ];
  for (const [name, env, variable, text] of bad) {
    it(`refuses ${name}`, () => {
      const { plan: refused, problems } = plan(env);
      assert.equal(refused, null);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0]!.variable, variable);
      assert.match(problems[0]!.message, text);
    });
  }

  it("reads the shard a ShardingManager started this process as", () => {
    assert.deepEqual(plan({ SHARDING_MANAGER: "true", SHARDS: "1", SHARD_COUNT: "3" }).shard, { id: 1, count: 3 });
    assert.equal(plan({ SHARDS: "1", SHARD_COUNT: "3" }).shard, null, "not without the manager's mark");
    assert.equal(plan({ SHARDING_MANAGER: "true", SHARDS: "3", SHARD_COUNT: "3" }).problems[0]?.variable, "SHARDS");
  });

  /** The settings `loadConfig` names in its error, one per line. */
  const refusedSettings = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.message
        .split("\n")
        .filter((line) => line.startsWith("  "))
        .map((line) => line.trim().split(":")[0]);
    }
    assert.fail("the configuration was accepted");
  };

  it("reports bad sharding settings at start, one line each, with the other settings' problems", () => {
    assert.deepEqual(refusedSettings({ LOOKALIKE_SHARDS: "0", LOOKALIKE_SHARD_COUNT: "x", LOOKALIKE_QUEUE_LIMIT: "0" }), [
      "LOOKALIKE_QUEUE_LIMIT",
      "LOOKALIKE_SHARDS",
      "LOOKALIKE_SHARD_COUNT",
    ]);
    assert.deepEqual(refusedSettings({ LOOKALIKE_SHARD_COUNT: "2", LOOKALIKE_SHARD_IDS: "5" }), ["LOOKALIKE_SHARD_IDS"]);
  });

  it("leaves a bot without sharding settings as it was", () => {
    const config = loadConfig({});
    assert.equal(config.sharding, null);
    assert.equal(config.shard, null);
    assert.deepEqual(shardClientOptions(null), {});
  });
});

describe("the write guard", () => {
  const shard1of2 = { id: 1, count: 2 };
  const mine = guildAt(5); // shard 1 of 2
  const theirs = guildAt(6); // shard 0 of 2

  it("refuses another shard's server with an internal error naming both shards, and logs each own server once", () => {
    const lines: unknown[] = [];
    const guard = new GuildWriteGuard(shard1of2, { info: (...args: unknown[]) => void lines.push(args) });
    const refusal = guard.refusal(theirs, "store images");
    assert.ok(refusal instanceof GuildNotOwnedError);
    assert.equal(refusal.code, "guild_not_owned");
    assert.match(refusal.message, /refused to store images for server \d+: it belongs to shard 0, and this process is shard 1 of 2/);
    assert.equal(guard.refusal(mine, "store images"), null);
    assert.equal(guard.refusal(mine, "write the server's state"), null);
    assert.equal(lines.length, 1, "one line per server it writes");
    assert.equal(GuildWriteGuard.unsharded.refusal(theirs, "store images"), null);
  });

  it("makes the index and the state store refuse another shard's server before touching storage", async () => {
    const guard = new GuildWriteGuard(shard1of2);
    const state = new GuildStateStore(await tempDir(), { guard });
    // Any use of the engine would throw: refusals must come first.
    const engine = new Proxy({} as LookalikeEngine, {
      get: (_, name) => {
        throw new Error(`the engine was used (${String(name)})`);
      },
    });
    const index = new GuildIndex(engine, state, pino({ level: "silent" }), { guard });
    const refused = (promise: Promise<unknown>) => assert.rejects(promise, GuildNotOwnedError);
    await refused(index.write(theirs, []));
    await refused(index.deleteMessages(theirs, ["600000000000000000"]));
    await refused(index.deleteChannel(theirs, "600000000000000000"));
    await refused(index.forgetAuthor(theirs, "600000000000000000"));
    await refused(index.rememberAuthor(theirs, "600000000000000000"));
    await refused(index.markNotARepost(theirs, "600000000000000000", "600000000000000001"));
    await refused(index.dropServer(theirs));
    await refused(index.upkeepNow(theirs));
    await refused(state.update(theirs, (s) => void (s.settings.enabled = false)));
    await refused(state.remove(theirs));
    // Its own server is written as usual.
    assert.equal((await state.update(mine, (s) => void (s.settings.enabled = false))).settings.enabled, false);
    index.close();
    await state.close();
  });

  it("reads a server's state from the table again when it becomes available (another process may have written it)", async () => {
    const database = await tempDir();
    const here = new GuildStateStore(database);
    const elsewhere = new GuildStateStore(database);
    const guild = guildAt(7);
    await here.update(guild, (s) => void (s.settings.action = "react"));
    await elsewhere.update(guild, (s) => void (s.settings.action = "log"));
    assert.equal((await here.get(guild)).settings.action, "react", "cached");
    const index = new GuildIndex({} as LookalikeEngine, here, pino({ level: "silent" }));
    index.serverAvailable(guild);
    assert.equal((await here.get(guild)).settings.action, "log", "read from the table");
    index.close();
    await Promise.all([here.close(), elsewhere.close()]);
  });
});

describe("identify requests between a shard process and its manager", () => {
  /** Both ends of an IPC channel: the shard process's `process` and the manager's `Shard`. */
  function channelPair(shardId: number) {
    const toShard = new EventEmitter();
    const shard = Object.assign(new EventEmitter(), {
      id: shardId,
      send: async (message: unknown) => void toShard.emit("message", message),
    });
    const channel: ManagerChannel = {
      send: (message, callback) => {
        shard.emit("message", message);
        callback(null);
      },
      on: (event, listener) => toShard.on(event, listener),
      off: (event, listener) => toShard.off(event, listener),
    };
    return { shard, channel };
  }

  /** A throttler the test opens by hand, recording who asked. */
  function manualThrottler() {
    const waiting: { shardId: number; signal: AbortSignal; release: () => void }[] = [];
    const throttler: IIdentifyThrottler = {
      waitForIdentify: (shardId, signal) =>
        new Promise<void>((resolve, reject) => {
          waiting.push({ shardId, signal, release: resolve });
          signal.addEventListener("abort", () => reject(signal.reason));
        }),
    };
    return { throttler, waiting };
  }

  it("waits for the manager's throttler, which sees the shard's id, and grants each request once", async () => {
    const { throttler, waiting } = manualThrottler();
    const { shard, channel } = channelPair(2);
    serveIdentifies(shard as unknown as Shard, throttler);
    const throttled = new ManagerIdentifyThrottler(channel);
    let granted = 0;
    const first = throttled.waitForIdentify(2, new AbortController().signal).then(() => granted++);
    const second = throttled.waitForIdentify(2, new AbortController().signal).then(() => granted++);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      waiting.map((entry) => entry.shardId),
      [2, 2],
    );
    assert.equal(granted, 0, "nothing before the throttler says so");
    waiting[0]!.release();
    await first;
    assert.equal(granted, 1, "the first request only");
    waiting[1]!.release();
    await second;
    assert.equal(granted, 2);
  });

  it("drops the requests of a shard process that died, and fails when the manager is gone", async () => {
    const { throttler, waiting } = manualThrottler();
    const { shard, channel } = channelPair(0);
    serveIdentifies(shard as unknown as Shard, throttler);
    void new ManagerIdentifyThrottler(channel).waitForIdentify(0, new AbortController().signal).catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    shard.emit("death");
    assert.equal(waiting[0]!.signal.aborted, true, "its slot is given up");

    const gone: ManagerChannel = { ...channel, send: (_message, callback) => callback(new Error("channel closed")) };
    await assert.rejects(new ManagerIdentifyThrottler(gone).waitForIdentify(0, new AbortController().signal), /channel closed/);
  });

  it("makes a discord.js client this shard, its identifies paced by the manager", () => {
    const { channel } = channelPair(1);
    const options = shardClientOptions({ id: 1, count: 3 }, channel);
    assert.deepEqual([options.shards, options.shardCount], [[1], 3]);
    assert.ok(options.ws?.buildIdentifyThrottler, "identifies wait for the manager");
    assert.equal(shardClientOptions({ id: 1, count: 3 }, null).ws, undefined, "without a manager, discord.js paces them itself");
  });
});
