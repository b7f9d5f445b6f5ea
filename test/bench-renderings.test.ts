/**
 * The held-out renderings benchmark in quick mode, in-process, on the real model, the shared
 * datasets and a real LanceDB: every kind is rendered as specified, the fit and test splits share
 * no rendering and no picture, and the report and evidence say what the engine did.
 *
 * Both caches (rendered files, analyses) start empty in temp directories, so this measures what a
 * fresh clone does; most of its time is the engine's own checkRepost and findSimilar per query.
 */
import "./support/paths.ts"; // first: without ../shared, stops with one line
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { before, describe, it } from "node:test";
import sharp from "sharp";
import { flowers, itemKey, museum, photoPool } from "../bench/lib/datasets.ts";
import { seededRandom, seedOf } from "../bench/lib/random.ts";
import type { SectionResult } from "../bench/lib/section.ts";
import { buildCorpus, type Query, type RenderingsCorpus } from "../bench/renderings/corpus.ts";
import { type EvidenceRow, evidenceFile, type Summary, weighingsFile } from "../bench/renderings/evidence.ts";
import { renderOnce } from "../bench/renderings/generate.ts";
import { KINDS, RENDERINGS, renderingNamed } from "../bench/renderings/kinds/catalogue.ts";
import { PHONES } from "../bench/renderings/kinds/screen.ts";
import type { SavedWeighing } from "../bench/renderings/regional-report.ts";
import { renderingsSection } from "../bench/renderings/section.ts";
import { wilson } from "../bench/renderings/stats.ts";
import { pictureOf } from "../bench/repost/edits.ts";
import { tempDir } from "./support/temp.ts";

let result: SectionResult;
let corpus: RenderingsCorpus;
let rows: EvidenceRow[];

interface Shape {
  readonly width: number;
  readonly height: number;
  readonly format: string;
  readonly params: Record<string, string | number | boolean>;
  readonly rendering: string;
  readonly grey: boolean;
}

const near = (a: number, b: number, tolerance = 2) => Math.abs(a - b) <= tolerance;
const within = (x: number, low: number, high: number) => x >= low - 1e-9 && x <= high + 1e-9;

/** What each kind's files must look like, checked from the decoded file and the recorded parameters. */
const EXPECTED: Record<string, (s: Shape, w: number, h: number) => string | true> = {
  jpeg: (s, w, h) => (s.format === "jpeg" && s.width === w && s.height === h) || "a same-size JPEG",
  resize: (s, w, h) => (within(s.width / w, 0.29, 0.61) && near(s.height / s.width, h / w, 0.03)) || "0.3–0.6 of the size, same aspect",
  crop80: (s, w, h) => within((s.width * s.height) / (w * h), 0.62, 0.82) || "64–80 % of the area",
  flip: (s, w, h) => (s.width === w && s.height === h) || "the same size",
  brightness: (s, w, h) => (s.width === w && s.height === h) || "the same size",
  webp: (s, w, h) => (s.format === "webp" && s.width === w && s.height === h) || "a same-size WebP",
  png: (s, w, h) => (s.format === "png" && s.width === w && s.height === h) || "a same-size PNG",
  caption: (s, w, h) => (s.width === w && s.height >= h) || "as wide, at least as tall",
  screenshot: (s) =>
    (PHONES.some(([pw, ph]) => pw === s.width && ph === s.height) && within(Number(s.params.widthFraction), 0.5, 1)) ||
    "a phone screen, picture 50–100 % of its width",
  collage: (s) => {
    const tiles = { "collage-a-2x2": 4, "collage-b-mosaic": 3, "collage-c-1x2": 2, "collage-d-3x3": 9 }[s.rendering];
    return (s.params.tiles === tiles && s.width >= 700 && within(Number(s.params.areaFraction), 0.02, 0.7)) || `${tiles} tiles, ≥ 700 px`;
  },
  crop: (s, w, h) => {
    const area = (Number(s.params.width) * Number(s.params.height)) / (w * h);
    const scale = Number(s.params.scale);
    return (within(area, 0.29, 0.71) && near(s.width, Number(s.params.width) * scale)) || "30–70 % of the area";
  },
  stickers: (s, w, h) => {
    const fractions = String(s.params.fractions).split(" ").map(Number);
    return (
      (s.width === w && s.height === h && within(fractions.length, 1, 4) && fractions.every((f) => within(f, 0.03, 0.1))) ||
      "1–4 stickers of 3–10 %, same size"
    );
  },
  border: (s, w, h) => (s.width > w && s.height > h) || "larger on both sides",
  rotate: (s, w, h) => {
    const angle = Math.abs(Number(s.params.angle));
    const t = (angle * Math.PI) / 180;
    const grownWidth = w * Math.cos(t) + h * Math.sin(t);
    const size = s.rendering.includes("grown")
      ? near(s.width, grownWidth, 3)
      : s.rendering.includes("filled")
        ? s.width < w
        : s.width === w;
    return (within(angle, 3, 15) && size) || "3–15°, canvas grown / cropped to fill / same size as named";
  },
  greyscale: (s, w, h) => (s.width === w && s.height === h && s.grey) || "the same size, grey",
  blur: (s, w, h) => (s.width === w && s.height === h) || "the same size",
};

async function shapeOf(q: Query): Promise<Shape> {
  const image = sharp(await readFile(q.file));
  const meta = await image.metadata();
  const { channels } = await image.stats();
  const grey = channels.length >= 3 && near(channels[0]!.mean, channels[1]!.mean, 1.5) && near(channels[1]!.mean, channels[2]!.mean, 1.5);
  return { width: meta.width!, height: meta.height!, format: meta.format!, params: q.params ?? {}, rendering: q.rendering!, grey };
}

describe("renderings benchmark, quick mode", () => {
  before(async () => {
    // Read by bench/lib/paths.ts and analysis-cache.ts when first used, i.e. from here on.
    process.env.LOOKALIKE_BENCH_CACHE ||= await tempDir("lookalike-bench-renderings-");
    process.env.LOOKALIKE_ANALYSIS_CACHE ||= await tempDir("lookalike-analysis-cache-");
    result = await renderingsSection.run({ quick: true, log: () => {} });
    corpus = await buildCorpus(true, () => {}); // the files are made; this reads the manifest
    rows = (JSON.parse(await readFile(evidenceFile(true), "utf8")) as { rows: EvidenceRow[] }).rows;
  });

  it("renders every kind, in both splits, to files of the expected size and format", async () => {
    const reposts = corpus.queries.filter((q) => q.rendering && q.expected !== null);
    for (const kind of KINDS) {
      for (const split of ["fit", "test"] as const) {
        const made = reposts.filter((q) => q.kind === kind.name && q.split === split);
        assert.ok(made.length > 0, `no ${split} rendering of ${kind.name}`);
        for (const q of made) {
          const shape = await shapeOf(q);
          const verdict = EXPECTED[kind.name]!(shape, Number(q.params!.sourceWidth), Number(q.params!.sourceHeight));
          assert.equal(
            verdict,
            true,
            `${q.id}: ${shape.width}×${shape.height} ${shape.format} ${JSON.stringify(q.params)} is not ${verdict}`,
          );
        }
      }
    }
  });

  it("keeps the fit and test splits apart: no rendering, no original, no negative picture in both", () => {
    const ids = (split: string, pick: (r: EvidenceRow) => string | null) =>
      new Set(rows.filter((r) => r.split === split).flatMap((r) => pick(r) ?? []));
    for (const pick of [
      (r: EvidenceRow) => r.rendering,
      (r: EvidenceRow) => r.expected,
      (r: EvidenceRow) => (r.negative ? r.query : null),
    ]) {
      const fit = ids("fit", pick);
      assert.ok(fit.size > 0);
      assert.deepEqual(
        [...ids("test", pick)].filter((x) => fit.has(x)),
        [],
      );
    }
    for (const r of rows)
      if (r.rendering) assert.equal(r.split, renderingNamed(r.rendering).split, `${r.query} uses a rendering of the other split`);
    const originalSplits = new Map(corpus.originals.map((o) => [o.key, o.split]));
    for (const r of rows) if (r.expected) assert.equal(r.split, originalSplits.get(r.expected) ?? r.split, r.query);
  });

  it("asks about negatives that are not stored, many of them the same subjects as stored images", async () => {
    const stored = new Set(corpus.stored.map(itemKey));
    const negatives = corpus.queries.filter((q) => q.expected === null);
    assert.ok(negatives.length >= 40, `${negatives.length} negatives`);
    for (const q of negatives) assert.ok(!stored.has(q.source), `${q.id} is stored`);
    const kinds = new Set(negatives.map((q) => q.kind));
    for (const k of ["flower", "cifar", "painting", "framed"]) assert.ok(kinds.has(k), `no ${k} negatives`);
    // Held-out flowers are of the species that are stored.
    const storedSpecies = new Set(corpus.stored.filter((s) => s.dataset === "flowers").map((s) => s.id.split("/")[1]));
    const heldSpecies = new Set(negatives.filter((q) => q.kind === "flower").map((q) => q.source.split("/")[1]));
    for (const species of heldSpecies) assert.ok(storedSpecies.has(species), `${species} not stored`);
    // The museum re-photos asked as reposts show a stored painting.
    const { queries } = await museum();
    for (const r of rows.filter((x) => x.kind === "re-photo")) assert.ok(queries.some((q) => itemKey(q) === r.query));
  });

  it("reports a row per kind, the split table, and false reposts with their interval", () => {
    for (const kind of KINDS)
      assert.match(result.markdown, new RegExp(`^\\| ${kind.name} \\| ${kind.group} \\| \\d`, "m"), `no results row for ${kind.name}`);
    for (const r of RENDERINGS) assert.ok(result.markdown.includes(`\`${r.id}\``), `split table lacks ${r.id}`);
    const { summary } = result.json as { summary: Summary };
    const all = summary.negatives.all!.both!;
    assert.equal(all.n, rows.filter((r) => r.negative).length);
    assert.deepEqual(all.ci, wilson(all.flagged, all.n));
    assert.match(result.markdown, /\*\*all negatives\*\* \| [\d.]+ % \(\d+\/\d+\), 95 % CI/);
  });

  it("fits the rules in both decision spaces and keeps the weighings to fit them again", async () => {
    assert.match(result.markdown, /^### Regional rules fitted on the fit split$/m);
    assert.match(result.markdown, /^### Regional rules in plain cosine/m);
    assert.match(result.markdown, /^\| \*\*false reposts\*\* \| [\d.]+ % \(\d+\/\d+\), 95 % CI/m);
    const saved = JSON.parse(await readFile(weighingsFile(true), "utf8")) as SavedWeighing[];
    // Every query weighed twice: as the CLI's collection has it, and in plain cosine.
    assert.equal(saved.length, 2 * rows.filter((r) => r.verdict !== "error").length);
    assert.ok(saved.every((w) => Array.isArray(w.weighed) && (w.space === "raw" || w.space === "whitened")));
    assert.ok(saved.filter((w) => w.expected !== null).some((w) => w.weighed.some((c) => c.candidate.id && c.evidence.regional)));
  });

  it("runs every query through the engine, and finds copies with every pixel kept", () => {
    assert.equal(rows.length, corpus.queries.length);
    for (const r of rows) {
      assert.notEqual(r.verdict, "error", `${r.query}: ${r.error}`);
      for (const field of ["score", "decisionScore", "hamming"])
        assert.equal(typeof r.evidence[field], "number", `${r.query} lacks ${field}`);
      assert.ok(r.top5.length > 0);
    }
    // Re-encoded JPEG, WebP and PNG of the very same pixels: any working engine names the original.
    for (const r of rows.filter((x) => ["jpeg", "webp", "png"].includes(x.kind))) {
      assert.ok(r.matchIsExpected && (r.verdict === "exact" || r.verdict === "near-duplicate"), `${r.query}: ${r.verdict} of ${r.match}`);
    }
  });

  it("renders the same file from the same job, fillers included", async () => {
    const collage = corpus.queries.find((q) => q.kind === "collage" && q.fillers.length > 0)!;
    const items = new Map([...(await flowers()), ...(await museum()).db, ...(await photoPool())].map((i) => [itemKey(i), i]));
    const job = {
      rendering: renderingNamed(collage.rendering!),
      source: items.get(collage.source)!,
      fillers: collage.fillers.map((key) => items.get(key)!),
    };
    const [once, twice] = [await renderOnce(job), await renderOnce(job)];
    assert.deepEqual(once, twice);
    assert.deepEqual(once, await readFile(collage.file));
  });
});

describe("renderings of crops", () => {
  it("draws every crop rendering as specified, the ones the quick slice skips too", async () => {
    // The quick slice renders each split's first rendering only; a crop's shape is cheap to check for all.
    const photos = (await photoPool()).slice(0, 3);
    for (const rendering of RENDERINGS.filter((r) => r.kind === "crop")) {
      for (const photo of photos) {
        const picture = await pictureOf(
          sharp(await readFile(photo.file))
            .rotate()
            .removeAlpha(),
        );
        const random = seededRandom(seedOf("test", rendering.id, itemKey(photo)));
        const { data, format, params } = await rendering.render(picture, { random, fillers: [] });
        const meta = await sharp(data).metadata();
        assert.equal(meta.format, format, rendering.id);
        const shape = { width: meta.width!, height: meta.height!, format: meta.format!, params, rendering: rendering.id, grey: false };
        const verdict = EXPECTED.crop!(shape, picture.width, picture.height);
        assert.equal(verdict, true, `${rendering.id} on ${itemKey(photo)}: not ${verdict} (${JSON.stringify(params)})`);
      }
    }
  });
});
