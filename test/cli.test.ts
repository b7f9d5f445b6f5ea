import assert from "node:assert/strict";
import { copyFile, mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { pngBomb, pseudoRandomBytes } from "./support/bad-images.ts";
import { type CliRunOptions, runCli } from "./support/cli.ts";
import { appScreenshot } from "./support/framings.ts";
import { type FakeS3, useFakeS3 } from "./support/object-store.ts";
import { datasetsDir } from "./support/paths.ts";
import { tempDir } from "./support/temp.ts";
import { centreCrop, reencode } from "./support/transforms.ts";

const photos = path.join(datasetsDir, "photo-pool-cc", "images");

/**
 * The CLI contract other tools parse: JSON lines on stdout, progress and warnings on stderr,
 * exit 0 / 1 / 2. Run from a temp working directory with relative paths, as users do.
 */
describe("lookalike CLI", () => {
  let work: string;
  let names: string[];
  const db = "db";

  before(async () => {
    work = await tempDir();
    names = (await readdir(photos)).sort().slice(0, 8);
    await mkdir(path.join(work, "imgs", "nested"), { recursive: true });
    for (const [i, name] of names.entries()) {
      await copyFile(path.join(photos, name), path.join(work, "imgs", i < 4 ? "" : "nested", name));
    }
    await writeFile(path.join(work, "imgs", "broken.jpg"), pseudoRandomBytes(2048));
    await writeFile(path.join(work, "imgs", "notes.txt"), "not an image, and not named like one");
    await mkdir(path.join(work, "queries"));
    await writeFile(path.join(work, "queries", "recompressed.jpg"), await reencode(path.join(photos, names[1]!)));
    await writeFile(path.join(work, "queries", "cropped.jpg"), await centreCrop(path.join(photos, names[5]!)));
    await writeFile(path.join(work, "queries", "bomb.png"), pngBomb());
    const screenshot = await appScreenshot(path.join(photos, names[2]!), { dark: true, share: 0.6, left: 40, top: 300 });
    await writeFile(path.join(work, "queries", "screenshot.jpg"), screenshot.image);
    await copyFile(path.join(photos, (await readdir(photos)).sort()[30]!), path.join(work, "queries", "unseen.jpg"));
  });

  const cli = (args: string[], stdin?: string, env?: CliRunOptions["env"]) => runCli(args, { cwd: work, stdin, env });

  it("indexes folders recursively with ids as given, skipping a bad file with one warning", async () => {
    const run = await cli(["index", "--db", db, "--json", "imgs"]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.lines, [
      { indexed: 8, skipped: 1, alreadyIndexed: 0, seconds: run.lines[0]!.seconds, imagesPerSecond: run.lines[0]!.imagesPerSecond },
    ]);
    const warnings = run.stderr.split("\n").filter((line) => line.startsWith("warning:"));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /imgs\/broken\.jpg.*\(corrupt\)/);
    assert.match(run.stderr, /indexing .*9\/9/, "progress goes to stderr");
  });

  it("re-indexing is idempotent, with or without --force", async () => {
    const again = await cli(["index", "--db", db, "--json", "imgs"]);
    assert.equal(again.lines[0]!.alreadyIndexed, 8);
    assert.equal(again.lines[0]!.indexed, 0);
    const forced = await cli(["index", "--db", db, "--json", "--force", "imgs/nested"]);
    assert.equal(forced.lines[0]!.indexed, 4);
    const info = await cli(["info", "--db", db, "--json"]);
    assert.deepEqual(
      info.lines.map((l) => [l.collection, l.rows]),
      [["default", 8]],
    );
  });

  it("search --json: one line per query in input order, best match first, errors inline", async () => {
    const run = await cli([
      "search",
      "--db",
      db,
      "--json",
      "--k",
      "3",
      "queries/recompressed.jpg",
      "queries/bomb.png",
      "queries/cropped.jpg",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      run.lines.map((l) => l.query),
      ["queries/recompressed.jpg", "queries/bomb.png", "queries/cropped.jpg"],
    );
    const [recompressed, bomb, cropped] = run.lines as { matches?: { id: string; score: number }[]; error?: { code: string } }[];
    assert.equal(recompressed!.matches!.length, 3);
    assert.equal(recompressed!.matches![0]!.id, `imgs/${names[1]}`);
    assert.ok(recompressed!.matches![0]!.score > 0.95);
    assert.equal(bomb!.error!.code, "too_many_pixels");
    assert.equal(cropped!.matches![0]!.id, `imgs/nested/${names[5]}`);
  });

  it("check --json gives verdicts; an indexed path is compared with everything else", async () => {
    const paths = ["queries/recompressed.jpg", "queries/cropped.jpg", "queries/unseen.jpg", `imgs/${names[0]}`, "queries/screenshot.jpg"];
    const run = await cli(["check", "--db", db, "--json", "--from", "-"], paths.join("\n"));
    assert.equal(run.code, 0, run.stderr);
    type Region = { query: number[]; match: number[] };
    const verdicts = run.lines as {
      query: string;
      verdict: string;
      match: { id: string; score: number; hamming: number; region?: Region } | null;
    }[];
    assert.equal(verdicts[0]!.verdict, "exact");
    assert.equal(verdicts[0]!.match!.id, `imgs/${names[1]}`);
    assert.ok(verdicts[0]!.match!.hamming <= 6);
    assert.ok(["exact", "near-duplicate"].includes(verdicts[1]!.verdict));
    assert.equal(verdicts[2]!.verdict, "new");
    assert.notEqual(verdicts[3]!.match?.id, `imgs/${names[0]}`, "never matches itself");
    // The picture inside a screenshot: found, with the box it fills in the query (fractions 0–1).
    const inside = verdicts[4]!;
    assert.equal(inside.match!.id, `imgs/${names[2]}`);
    assert.ok(["exact", "near-duplicate"].includes(inside.verdict), inside.verdict);
    const [x, y, w, h] = inside.match!.region!.query;
    assert.ok(Math.abs(x! - 40 / 720) < 0.02 && Math.abs(w! - 0.6) < 0.02 && y! > 0.15 && y! + h! < 0.85, `${inside.match!.region!.query}`);
    assert.deepEqual(inside.match!.region!.match, [0, 0, 1, 1]);
    assert.equal(verdicts[0]!.match!.region, undefined, "a whole-image match has no region");
  });

  it("takes a 30 KB command line of query paths (long command lines are handed to a child process)", async () => {
    // The byte length is what crashes onnxruntime (src/cli/relaunch.ts): 16 long paths (each with
    // 960 "./" segments, under Linux's 4,096-byte path limit) make as long a command line as 1,250
    // short ones, for 16 searches' time.
    const queries = Array.from({ length: 16 }, () => `${"./".repeat(960)}queries/recompressed.jpg`);
    assert.ok(queries.join(" ").length > 30_000);
    const run = await cli(["search", "--db", db, "--json", "--k", "1", ...queries]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.lines.length, 16);
    assert.ok(run.lines.every((l) => (l.matches as { id: string }[])[0]!.id === `imgs/${names[1]}`));
  });

  it("exits 2 on usage errors and 1 on fatal errors, saying why", async () => {
    const noDb = await cli(["search", "x.jpg"]);
    assert.equal(noDb.code, 2);
    assert.match(noDb.stderr, /needs --db/);
    const badK = await cli(["search", "--db", db, "--k", "zero", "x.jpg"]);
    assert.equal(badK.code, 2);
    const mismatch = await cli(["search", "--db", db, "--pooling", "spoc", "queries/unseen.jpg"]);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /model_mismatch/);
  });

  it("drop removes a collection", async () => {
    await cli(["index", "--db", db, "--collection", "scratch", `imgs/${names[0]}`]);
    const dropped = await cli(["drop", "--db", db, "--collection", "scratch"]);
    assert.equal(dropped.code, 0);
    const info = await cli(["info", "--db", db, "--json"]);
    assert.deepEqual(
      info.lines.map((l) => l.collection),
      ["default"],
    );
  });

  describe("on object storage: s3:// on s3rver, reached through the AWS_* variables", () => {
    let s3: FakeS3;
    before(async () => {
      s3 = await useFakeS3();
    });
    after(() => s3.stop());

    it("indexes into s3://bucket/prefix, counts every image once, and ranks as on a local folder", async () => {
      const uri = `s3://${s3.bucket}/cli/images`;
      const first = await cli(["index", "--db", uri, "--json", "imgs"], undefined, s3.env);
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual([first.lines[0]!.indexed, first.lines[0]!.skipped], [8, 1]);
      const again = await cli(["index", "--db", uri, "--json", "imgs"], undefined, s3.env);
      assert.deepEqual([again.lines[0]!.indexed, again.lines[0]!.alreadyIndexed], [0, 8]);
      const info = await cli(["info", "--db", uri, "--json"], undefined, s3.env);
      assert.equal(info.code, 0, info.stderr);
      assert.deepEqual(
        info.lines.map((l) => [l.collection, l.rows]),
        [["default", 8]],
      );
      const queries = ["queries/recompressed.jpg", "queries/cropped.jpg", "queries/unseen.jpg"];
      const onS3 = await cli(["search", "--db", uri, "--json", "--k", "5", ...queries], undefined, s3.env);
      const onFolder = await cli(["search", "--db", db, "--json", "--k", "5", ...queries]);
      assert.equal(onS3.code, 0, onS3.stderr);
      type Ranked = { query: string; matches: { id: string; score: number }[] };
      const [remote, local] = [onS3.lines as Ranked[], onFolder.lines as Ranked[]];
      assert.equal(remote.length, 3);
      for (const [i, line] of remote.entries()) {
        assert.deepEqual(
          line.matches.map((m) => m.id),
          local[i]!.matches.map((m) => m.id),
          line.query,
        );
        for (const [j, match] of line.matches.entries()) assert.ok(Math.abs(match.score - local[i]!.matches[j]!.score) < 1e-5, line.query);
      }
      assert.equal(remote[0]!.matches[0]!.id, `imgs/${names[1]}`);
    });

    it("refuses a location or object-store settings it could not use, saying why in one line", async () => {
      const unknown = await cli(["info", "--db", "ftp://host/db"], undefined, s3.env);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /--db: "ftp:\/\/" is not a supported database location/);
      const plainHttp = await cli(["info", "--db", `s3://${s3.bucket}/cli/images`], undefined, { ...s3.env, AWS_ALLOW_HTTP: undefined });
      assert.equal(plainHttp.code, 1);
      assert.match(plainHttp.stderr, /AWS_ENDPOINT: http:\/\/127\.0\.0\.1:\d+ is plain http: set AWS_ALLOW_HTTP=true/);
    });
  });
});
