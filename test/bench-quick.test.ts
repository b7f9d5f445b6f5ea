/**
 * The quality and repost benchmark sections in quick mode, in-process, on the real model and the
 * shared datasets. Asserts what the results must show, not just that they ran.
 *
 * The cache starts empty in a temp directory (removed afterwards), so every run computes what a
 * fresh clone computes: about 40 s on two busy cores (~55 s of CPU). `LOOKALIKE_BENCH_CACHE=<dir>`
 * keeps one between runs instead (then about 17 s). The slices are small (QUICK in
 * bench/quality/retrieval.ts, bench/repost/corpus.ts); the full sets are `npm run bench`'s.
 *
 * Not run here: the speed section (timings, minutes even in quick mode, and nothing to assert on
 * a shared machine) and the flood section's run (the bot in a child process under a flood is what
 * test/bot-real-conditions.test.ts tests; only its report is checked below).
 */
import "./support/paths.ts"; // first: without ../shared, stops with one line
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { before, describe, it } from "node:test";
import { HASH_NAMES } from "../bench/contenders/hashes.ts";
import { colourHistogram, histogramCorrelation } from "../bench/contenders/histogram.ts";
import { cnnVariantName, DESCRIPTOR_LABEL } from "../bench/contenders/registry.ts";
import type { FloodMeasurement } from "../bench/flood/measure.ts";
import type { QueryResult } from "../bench/flood/queries.ts";
import { render, summarise } from "../bench/flood/report.ts";
import { floodPlan } from "../bench/flood/section.ts";
import { photoPool } from "../bench/lib/datasets.ts";
import { CNN_DESCRIPTORS } from "../bench/lib/descriptors.ts";
import { RESIZE_MODES } from "../bench/lib/feature-cache.ts";
import { seededRandom } from "../bench/lib/random.ts";
import { histogramScorer } from "../bench/lib/scorers.ts";
import type { SectionResult } from "../bench/lib/section.ts";
import type { EngineRetrieval } from "../bench/quality/engine-retrieval.ts";
import type { PeerResult } from "../bench/quality/peer-tests.ts";
import type { RetrievalResult } from "../bench/quality/retrieval.ts";
import { qualitySection } from "../bench/quality/section.ts";
import { pictureOf } from "../bench/repost/edits.ts";
import type { ContenderResult } from "../bench/repost/evaluate.ts";
import type { Outcome } from "../bench/repost/outcomes.ts";
import { repostSection } from "../bench/repost/section.ts";
import { TRANSFORMS } from "../bench/repost/transforms.ts";
import { DEFAULT_POOLING } from "../src/retrieval/descriptor.ts";
import { decodeImage } from "../src/retrieval/image.ts";
import { DEFAULT_MODEL_ID, getModel } from "../src/retrieval/models.ts";
import { tempDir } from "./support/temp.ts";

const context = { quick: true, log: () => {} };

let quality: SectionResult;
let repost: SectionResult;

interface QualityJson {
  museum: RetrievalResult;
  engine: EngineRetrieval;
  flowers: RetrievalResult;
  cifar: RetrievalResult;
  peers: PeerResult;
}
interface RepostJson {
  engine: Outcome & { agreesWithInMemory: boolean };
  contenders: ContenderResult[];
}

const shipped = (r: RetrievalResult) => r.rows.find((x) => x.shipped)!;
const seed = <T extends { name: string }>(rows: readonly T[]) => rows.find((x) => x.name.startsWith("seed demo"))!;

describe("benchmark, quick mode", () => {
  before(async () => {
    // Read by bench/lib/paths.ts when the cache is first used, i.e. from here on.
    process.env.LOOKALIKE_BENCH_CACHE ||= await tempDir("lookalike-bench-quick-");
    quality = await qualitySection.run(context);
    repost = await repostSection.run(context);
  });

  it("the shipped configuration finds museum paintings from re-photographs", () => {
    const { museum } = quality.json as QualityJson;
    const row = shipped(museum);
    assert.equal(row.name, DESCRIPTOR_LABEL[DEFAULT_POOLING]);
    assert.ok(row.metrics.top1! >= 0.85, `museum top-1 ${row.metrics.top1}`);
    assert.ok(row.metrics.map! >= 0.85, `museum mAP ${row.metrics.map}`);
  });

  it("the shipped /similar (engine.findSimilar) finds them too, and ranks flowers by kind better than chance", () => {
    const { engine, flowers } = quality.json as QualityJson;
    assert.equal(engine.museum.queries, 12);
    assert.ok(engine.museum.top1 >= 0.85, `museum top-1 ${engine.museum.top1}`);
    // Five kinds of flower: a random ranking puts one in five of the ten results in the query's kind.
    assert.equal(engine.flowers.queries, flowers.stored);
    assert.ok(engine.flowers.p10 > 0.3, `flowers P@10 ${engine.flowers.p10}`);
  });

  it("the seed demo's colour histograms are worse than the shipped CNN everywhere", () => {
    const q = quality.json as QualityJson;
    for (const [set, metric] of [
      [q.museum, "top1"],
      [q.flowers, "p10"],
      [q.cifar, "p10"],
    ] as const) {
      assert.ok(seed(set.rows).metrics[metric]! < shipped(set).metrics[metric]!, `${set.dataset} ${metric}`);
    }
    const r = repost.json as RepostJson;
    assert.ok(seed(r.contenders).test.recall.mild < r.engine.recall.mild);
  });

  it("the reports name every contender", () => {
    const names = [
      "seed demo: RGB histograms 3×256, Pearson",
      "dHash 64 (ours)",
      "pHash 64 (ours)",
      "pHash 64 (sharp-phash)",
      "blockhash 256 (imghash → blockhash-core)",
      ...CNN_DESCRIPTORS.flatMap((d) => [false, true].flatMap((w) => ["", " + αQE", " + DBA + αQE"].map((r) => cnnVariantName(d, w, r)))),
      "learned projection 256 d (triplet, from PCAw)",
      ...RESIZE_MODES.filter((m) => m !== getModel(DEFAULT_MODEL_ID).input.resize).map((m) => `resize "${m}"`),
      "no query-time flip",
      "shipped: engine.checkRepost",
    ];
    assert.equal(HASH_NAMES.length, 4);
    for (const name of names) {
      assert.ok(quality.markdown.includes(name), `quality report lacks ${name}`);
      assert.ok(repost.markdown.includes(name), `repost report lacks ${name}`);
    }
    for (const t of TRANSFORMS) assert.ok(repost.markdown.includes(t.name), `repost report lacks transform ${t.name}`);
  });

  it("measures the shipped verdict through the engine, and it agrees with the in-memory fusion", () => {
    const r = repost.json as RepostJson;
    assert.ok(r.engine.agreesWithInMemory);
    // The test half of the quick slice's ~120 non-repost queries, and a repost of every transform.
    assert.ok(r.engine.negatives >= 40, `${r.engine.negatives} non-repost queries`);
    for (const t of TRANSFORMS) assert.ok(t.name in r.engine.byTransform, `no test-half repost made by ${t.name}`);
    assert.ok(r.engine.falseRate <= 0.02, `false reposts ${r.engine.falseRate}`);
    assert.ok(r.engine.recall.mild >= 0.8, `mild recall ${r.engine.recall.mild}`);
  });

  it("rejects the corrupt peer fixture and calls an identical copy exact", () => {
    const { peers } = quality.json as QualityJson;
    const corrupt = peers.queries.findIndex((q) => q.name === "ukbench09268_corrupt");
    assert.equal(peers.queries[corrupt]!.rejected, "corrupt");
    const copy = peers.queries.findIndex((q) => q.name === "ukbench00120");
    assert.deepEqual(peers.engine[copy], { verdict: "exact", right: true });
    const hflip = peers.queries.findIndex((q) => q.name === "ukbench00120_hflip");
    assert.ok(peers.engine[hflip]!.right, "the mirrored copy is found (query-time flip)");
  });

  it("scores the seed's histograms exactly as its Pearson correlation does", async () => {
    const pool = (await photoPool()).slice(0, 3);
    const histograms = await Promise.all(pool.map(async (p) => colourHistogram(await decodeImage(p.file))));
    await histogramScorer(histograms, histograms).visit((sim) => {
      for (let a = 0; a < 3; a++) {
        for (let b = 0; b < 3; b++) assert.ok(Math.abs(sim.data[a * 3 + b]! - histogramCorrelation(histograms[a]!, histograms[b]!)) < 1e-5);
      }
      assert.ok(Math.abs(sim.data[0]! - 1) < 1e-5, "a histogram correlates perfectly with itself");
    });
  });

  it("generates the same transformed image from the same seed", async () => {
    const [original] = await photoPool();
    const meme = TRANSFORMS.find((t) => t.name === "meme-caption")!;
    const once = async () => {
      const picture = await pictureOf(await readFile(original!.file));
      return (await meme.steps[0]!.edit(picture, { random: seededRandom(42), fillers: [] })).picture.data;
    };
    assert.deepEqual(await once(), await once());
  });
});

describe("benchmark, flood section's report (its run is test/bot-real-conditions.test.ts's subject)", () => {
  const answered = (ms: number): QueryResult => ({ startMs: 0, ms, outcome: "answered", originalFirst: true });
  const timedOut: QueryResult = { startMs: 0, ms: null, outcome: "timeout", originalFirst: false };
  const plan = floodPlan(true);

  it("counts a timeout as slower than any answer, and says so", () => {
    const idle = summarise(Array.from({ length: 10 }, (_, i) => answered(100 + i)));
    const flood = summarise([...Array.from({ length: 9 }, (_, i) => answered(300 + i)), timedOut]);
    assert.deepEqual([idle.p95, idle.timeouts], [109, 0]);
    assert.deepEqual([flood.p50, flood.p95, flood.max, flood.timeouts, flood.originalFirst], [304, Infinity, Infinity, 1, 9]);
    const run: FloodMeasurement = {
      idle: [],
      flood: [],
      posting: { posted: plan.images, failed: 0, lastMs: 3000 },
      drainSeconds: undefined,
      stored: 42,
      memory: { idle: undefined, end: undefined, samples: [] },
      floodCpuSeconds: 10,
      repostAlerts: 0,
      stop: undefined,
    };
    const markdown = render({ plan, loadAtStart: 1, reusedSources: 0, idle, flood, run });
    assert.match(markdown, /During flood `\/similar` p50 \/ p95 \/ max \| 304 ms \/ > 60 s \(timeout\) \/ > 60 s \(timeout\)/);
    assert.match(markdown, new RegExp(`not drained: 42 of ${plan.images} stored`));
  });
});
