/** The bot's bookkeeping rules as table tests: live checkpoints, compaction, tombstones. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SnowflakeUtil } from "discord.js";
import pino from "pino";
import { type CompactionPolicy, compactionDue } from "../src/bot/services/compaction-policy.ts";
import { ChannelWatermark, LiveCheckpoints } from "../src/bot/services/live-checkpoints.ts";
import { isDeleted, withTombstones } from "../src/bot/tombstones.ts";
import { memoryStateStore } from "./support/memory-state.ts";

describe("LiveCheckpoints on a server seen for the first time", () => {
  const secondsAgo = (seconds: number) => SnowflakeUtil.generate({ timestamp: Date.now() - seconds * 1_000 }).toString();

  it("starts when the process started watching, so a message that arrived while it was connecting is caught up", async () => {
    // Watching for 5 s; a message posted 1 s ago arrived live and was deferred (its lane was full).
    const checkpoints = new LiveCheckpoints(memoryStateStore().store, pino({ level: "silent" }), 1_000, Date.now() - 5_000);
    const early = secondsAgo(1);
    await checkpoints.load("1");
    assert.ok(checkpoints.behind("1", "2", early), "the channel has it to catch up");
    checkpoints.begin("1", "2", early);
    checkpoints.hold("1", "2", early);
    assert.ok(BigInt(checkpoints.position("1", "2")) < BigInt(early), "the checkpoint stays below it");
    // Posted before the process started: older history is /index's job.
    assert.ok(!checkpoints.behind("1", "3", secondsAgo(10)));
    await checkpoints.save();
  });

  it("starts a minute back on a server joined long after the process started", async () => {
    const checkpoints = new LiveCheckpoints(memoryStateStore().store, pino({ level: "silent" }), 1_000, Date.now() - 3_600_000);
    await checkpoints.load("1");
    assert.ok(checkpoints.behind("1", "2", secondsAgo(30)));
    assert.ok(!checkpoints.behind("1", "2", secondsAgo(120)));
    await checkpoints.save();
  });
});

describe("ChannelWatermark: the checkpoint only passes a message once it and every earlier one are stored", () => {
  type Step = ["begin" | "finish" | "hold" | "advanceTo", number];
  const cases: { name: string; steps: Step[]; position: number }[] = [
    {
      name: "in order",
      steps: [
        ["begin", 11],
        ["finish", 11],
        ["begin", 12],
        ["finish", 12],
      ],
      position: 12,
    },
    {
      name: "a later message finishing first waits for the earlier one",
      steps: [
        ["begin", 11],
        ["begin", 12],
        ["finish", 12],
      ],
      position: 10,
    },
    {
      name: "…and both count once the earlier one is done",
      steps: [
        ["begin", 11],
        ["begin", 12],
        ["finish", 12],
        ["finish", 11],
      ],
      position: 12,
    },
    {
      name: "a held (deferred) message blocks everything after it",
      steps: [
        ["begin", 11],
        ["begin", 12],
        ["hold", 11],
        ["finish", 12],
      ],
      position: 10,
    },
    {
      name: "a catch-up reading past the held message releases it",
      steps: [
        ["begin", 11],
        ["begin", 12],
        ["hold", 11],
        ["finish", 12],
        ["advanceTo", 11],
      ],
      position: 12,
    },
    {
      name: "a catch-up that stops short of a held message keeps it held",
      steps: [
        ["begin", 13],
        ["hold", 13],
        ["advanceTo", 12],
        ["begin", 14],
        ["finish", 14],
      ],
      position: 12,
    },
    {
      name: "messages at or before the checkpoint (edits) change nothing",
      steps: [
        ["begin", 9],
        ["finish", 9],
        ["hold", 8],
      ],
      position: 10,
    },
    {
      name: "the checkpoint never moves back",
      steps: [
        ["advanceTo", 20],
        ["begin", 15],
        ["finish", 15],
        ["advanceTo", 18],
      ],
      position: 20,
    },
    { name: "finishing a message that never began still counts (no event was missed)", steps: [["finish", 11]], position: 11 },
  ];
  for (const { name, steps, position } of cases) {
    it(name, () => {
      const watermark = new ChannelWatermark(10n);
      for (const [action, id] of steps) watermark[action](BigInt(id));
      assert.equal(watermark.position, BigInt(position));
    });
  }
});

describe("compactionDue", () => {
  const policy: CompactionPolicy = { maxFragments: 32, minFragments: 2, maxDelayMs: 600_000 };
  const cases: { name: string; fragments: number; ageMs: number | null; due: boolean }[] = [
    { name: "nothing written", fragments: 0, ageMs: null, due: false },
    { name: "a few fresh fragments wait", fragments: 5, ageMs: 1_000, due: false },
    { name: "many fragments compact at once", fragments: 32, ageMs: 1_000, due: true },
    { name: "a few old fragments compact", fragments: 2, ageMs: 600_000, due: true },
    { name: "a single old fragment is left alone", fragments: 1, ageMs: 3_600_000, due: false },
  ];
  for (const { name, fragments, ageMs, due } of cases) {
    it(name, () => {
      const now = 10_000_000;
      assert.equal(
        compactionDue({ fragmentsSinceCompaction: fragments, oldestFragmentAt: ageMs === null ? null : now - ageMs }, now, policy),
        due,
      );
    });
  }
});

describe("tombstones", () => {
  const limits = { maxAgeMs: 1_000, maxCount: 3 };
  it("adds ids, drops the expired and the oldest past the count", () => {
    const start = [
      { id: "a", at: 0 },
      { id: "b", at: 900 },
    ];
    assert.deepEqual(withTombstones(start, ["c"], 1_500, limits), [
      { id: "b", at: 900 },
      { id: "c", at: 1_500 },
    ]);
    assert.deepEqual(
      withTombstones(
        [
          { id: "b", at: 900 },
          { id: "c", at: 950 },
          { id: "d", at: 990 },
        ],
        ["e"],
        1_000,
        limits,
      ).map((s) => s.id),
      ["c", "d", "e"],
    );
  });
  it("a repeated deletion is kept once, with its newest time", () => {
    assert.deepEqual(withTombstones([{ id: "a", at: 10 }], ["a"], 20, limits), [{ id: "a", at: 20 }]);
  });
  it("a row is deleted with its message, its channel or its thread's parent", () => {
    const deletions = { hasMessage: (id: string) => id === "m1", hasChannel: (id: string) => id === "c1" };
    assert.equal(isDeleted(deletions, { messageId: "m1", channelId: "c2" }), true);
    assert.equal(isDeleted(deletions, { messageId: "m2", channelId: "c1" }), true);
    assert.equal(isDeleted(deletions, { messageId: "m2", channelId: "t1", parentId: "c1" }), true);
    assert.equal(isDeleted(deletions, { messageId: "m2", channelId: "c2", parentId: null }), false);
  });
});
