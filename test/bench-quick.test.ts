/**
 * The quality and repost benchmark sections in quick mode, in-process, on the real model and the
 * shared datasets (feature maps cached in bench/.cache/ after the first run). Asserts what the
 * results must show, not just that they ran.
 */
import assert from "node:assert/strict";
import { describe, it, before } from "node:test";
import { DEFAULT_POOLING } from "../src/retrieval/descriptor.ts";
import { HASH_NAMES } from "../bench/contenders/hashes.ts";
import { DESCRIPTOR_LABEL, cnnVariantName } from "../bench/contenders/registry.ts";
import { CNN_DESCRIPTORS } from "../bench/lib/descriptors.ts";
import type { SectionResult } from "../bench/lib/section.ts";
import { qualitySection } from "../bench/quality/section.ts";
import type { PeerResult } from "../bench/quality/peer-tests.ts";
import type { RetrievalResult } from "../bench/quality/retrieval.ts";
import { repostSection } from "../bench/repost/section.ts";
import type { ContenderResult } from "../bench/repost/evaluate.ts";
import type { Outcome } from "../bench/repost/outcomes.ts";
import { TRANSFORMS } from "../bench/repost/transforms.ts";
import { pictureOf } from "../bench/repost/edits.ts";
import { seededRandom } from "../bench/lib/random.ts";
import { photoPool } from "../bench/lib/datasets.ts";
import { readFile } from "node:fs/promises";
import { DEFAULT_MODEL_ID, getModel } from "../src/retrieval/models.ts";
import { RESIZE_MODES } from "../bench/lib/feature-cache.ts";
import { histogramScorer } from "../bench/lib/scorers.ts";
import { colourHistogram, histogramCorrelation } from "../bench/contenders/histogram.ts";
import { decodeImage } from "../src/retrieval/image.ts";

const context = { quick: true, log: () => {} };

let quality: SectionResult;
let repost: SectionResult;

interface QualityJson {
  museum: RetrievalResult;
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
    assert.ok(r.engine.negatives > 100);
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
