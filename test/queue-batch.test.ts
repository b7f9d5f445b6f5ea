/** When the embedding queue groups images into one job (src/retrieval/queue/batch.ts): the policy as a table, then the batcher. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Batcher, type BatchLimits, type BatchState, batchReady } from "../src/retrieval/queue/batch.ts";

const LIMITS: BatchLimits = { images: 4, bytes: 1000, windowMs: 20 };

describe("batchReady", () => {
  const cases: [string, BatchState, boolean][] = [
    ["an empty batch is never sent", { images: 0, bytes: 0, outstanding: 0, ageMs: 99 }, false],
    ["a lone image with nothing in the workers' hands goes at once", { images: 1, bytes: 10, outstanding: 0, ageMs: 0 }, true],
    ["while a job is out, a young batch waits for company", { images: 1, bytes: 10, outstanding: 1, ageMs: 0 }, false],
    ["…up to its window", { images: 3, bytes: 30, outstanding: 2, ageMs: 19.9 }, false],
    ["…and goes when the window is over", { images: 1, bytes: 10, outstanding: 2, ageMs: 20 }, true],
    ["a full batch goes at once", { images: 4, bytes: 40, outstanding: 5, ageMs: 0 }, true],
    ["so does one at the byte cap", { images: 2, bytes: 1000, outstanding: 5, ageMs: 0 }, true],
  ];
  for (const [name, state, expected] of cases) {
    it(name, () => assert.equal(batchReady(state, LIMITS), expected));
  }
});

describe("Batcher", () => {
  const item = (bytes = 10) => ({ bytes });
  const collect = (limits = LIMITS) => {
    const sent: { bytes: number }[][] = [];
    return { sent, batcher: new Batcher(limits, (items) => sent.push(items)) };
  };

  it("sends a lone image at once, then groups what arrives while that job is out", () => {
    const { sent, batcher } = collect();
    batcher.add(item());
    assert.equal(sent.length, 1);
    for (let i = 0; i < 9; i++) batcher.add(item());
    assert.deepEqual(
      sent.map((batch) => batch.length),
      [1, 4, 4],
      "full batches go at once; the ninth waits",
    );
    batcher.answered();
    batcher.answered();
    assert.deepEqual(
      sent.map((batch) => batch.length),
      [1, 4, 4],
      "two jobs still out",
    );
    batcher.answered();
    assert.deepEqual(
      sent.map((batch) => batch.length),
      [1, 4, 4, 1],
      "nothing left to wait behind: it goes",
    );
    assert.deepEqual(batcher.drain(), []);
  });

  it("sends a waiting batch when its window is over", async () => {
    const { sent, batcher } = collect();
    batcher.add(item());
    batcher.add(item());
    assert.equal(sent.length, 1);
    await new Promise((resolve) => setTimeout(resolve, LIMITS.windowMs + 30));
    assert.deepEqual(
      sent.map((batch) => batch.length),
      [1, 1],
    );
  });

  it("starts a new job rather than exceed the byte cap", () => {
    const { sent, batcher } = collect();
    batcher.add(item());
    batcher.add(item(600));
    batcher.add(item(600));
    assert.deepEqual(
      sent.map((batch) => batch.map((i) => i.bytes)),
      [[10], [600]],
    );
    assert.deepEqual(
      batcher.drain().map((i) => i.bytes),
      [600],
    );
  });

  it("takes back an image not sent yet, and only that", () => {
    const { sent, batcher } = collect();
    const first = item();
    batcher.add(first);
    const waiting = item();
    batcher.add(waiting);
    assert.equal(batcher.withdraw(first), false, "already sent");
    assert.equal(batcher.withdraw(waiting), true);
    batcher.answered();
    assert.equal(sent.length, 1, "nothing left to send");
  });

  it("sends an urgent image alone at once, and counts it as out", () => {
    const { sent, batcher } = collect();
    batcher.sendAlone(item());
    batcher.add(item());
    assert.deepEqual(
      sent.map((batch) => batch.length),
      [1],
      "the background image waits behind the urgent one",
    );
    batcher.answered();
    assert.deepEqual(
      sent.map((batch) => batch.length),
      [1, 1],
    );
  });
});
