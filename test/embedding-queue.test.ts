/**
 * The Redis-backed embedding queue, with real parts: Debian's redis-server started by the test on
 * 127.0.0.1 (no persistence), the real model from ../shared, real LanceDB in temp folders, and
 * embedding workers both in this process and as child processes started like `npm run worker`.
 */
import "./support/paths.ts"; // first: without ../shared, stops with one line
import assert from "node:assert/strict";
import { copyFile, mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { ConfigError, loadConfig } from "../src/bot/config.ts";
import { LocalAnalyzer, vectorSpace } from "../src/retrieval/analyzer.ts";
import type { AnalyzedImage, AnalyzeOptions } from "../src/retrieval/engine.ts";
import { isLookalikeError } from "../src/retrieval/errors.ts";
import { redactRedisUrl } from "../src/retrieval/queue/connection.ts";
import { EmbeddingWorker } from "../src/retrieval/queue/embedding-worker.ts";
import { QUEUE_PREFIX, queueName } from "../src/retrieval/queue/protocol.ts";
import { QueuedAnalyzer } from "../src/retrieval/queue/queued-analyzer.ts";
import { DEFAULT_WORKER_CONCURRENCY, DEFAULT_WORKER_LOCK_MS, queueSettings } from "../src/retrieval/queue/settings.ts";
import { damagedPng, pngBomb } from "./support/bad-images.ts";
import { eventually, recompress, samplePhotos } from "./support/bot-fixtures.ts";
import { startHarness } from "./support/bot-harness.ts";
import { runCli } from "./support/cli.ts";
import { openTestEngine } from "./support/engine.ts";
import type { GuildHandle } from "./support/fake-discord/index.ts";
import { useFakeS3 } from "./support/object-store.ts";
import { datasetsDir, modelsDir } from "./support/paths.ts";
import { waitUntil } from "./support/polling.ts";
import { startRedis, type TestRedis } from "./support/redis.ts";
import { tempDir } from "./support/temp.ts";
import { startWorkerProcess, type WorkerProcess } from "./support/worker-process.ts";

const photos = path.join(datasetsDir, "photo-pool-cc", "images");
const space = vectorSpace({});

describe("the embedding queue's settings", () => {
  it("default to no queue, and to the documented worker values", () => {
    const config = loadConfig({});
    assert.equal(config.queue.redisUrl, undefined);
    assert.deepEqual(config.queue.worker, {
      concurrency: DEFAULT_WORKER_CONCURRENCY,
      threads: undefined,
      lockDurationMs: DEFAULT_WORKER_LOCK_MS,
    });
    const set = queueSettings({
      LOOKALIKE_REDIS_URL: " redis://:secret@redis.internal:6380/2 ",
      LOOKALIKE_WORKER_CONCURRENCY: "8",
      LOOKALIKE_WORKER_THREADS: "1",
      LOOKALIKE_WORKER_LOCK_MS: "5000",
    });
    assert.deepEqual(set, {
      settings: { redisUrl: "redis://:secret@redis.internal:6380/2", worker: { concurrency: 8, threads: 1, lockDurationMs: 5000 } },
      problems: [],
    });
  });

  it("are checked at start with every other setting, one line each, never echoing a password", () => {
    assert.throws(
      () =>
        loadConfig({
          LOOKALIKE_REDIS_URL: "http://user:hunter2@redis:6379",
          LOOKALIKE_WORKER_CONCURRENCY: "0",
          LOOKALIKE_WORKER_LOCK_MS: "soon",
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /^ {2}LOOKALIKE_REDIS_URL: "http:\/\/" is not Redis/m);
        assert.match(error.message, /^ {2}LOOKALIKE_WORKER_CONCURRENCY: a whole number from 1 to 256, got "0"$/m);
        assert.match(error.message, /^ {2}LOOKALIKE_WORKER_LOCK_MS: a whole number from 500 to 3600000, got "soon"$/m);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      },
    );
    assert.match(queueSettings({ LOOKALIKE_REDIS_URL: "redis://host/db0" }).problems[0]!.message, /database must be a number/);
    assert.match(queueSettings({ LOOKALIKE_REDIS_URL: "not a url" }).problems[0]!.message, /not a URL/);
    assert.equal(redactRedisUrl("redis://user:hunter2@redis:6379/1"), "redis://user:***@redis:6379/1");
  });

  it("a Redis that does not answer stops the caller at open, with the reason and without the password", async () => {
    const started = Date.now();
    await assert.rejects(
      QueuedAnalyzer.open({ redisUrl: "redis://:hunter2@127.0.0.1:1", space: vectorSpace({}), connectTimeoutMs: 500 }),
      (error: unknown) => {
        assert.ok(isLookalikeError(error, "queue_unavailable"), String(error));
        assert.match(error.message, /^Cannot use Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: no answer within 500 ms$/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000);
  });
});

describe("the embedding queue on Redis", () => {
  let files: string[];

  before(async () => {
    files = (await readdir(photos)).sort().map((name) => path.join(photos, name));
  });

  describe("with a worker in this process", () => {
    let redis: TestRedis;
    let local: LocalAnalyzer;
    const payloadKeys = async () => {
      const client = new Redis(redis.url);
      try {
        return await client.keys("lookalike:*:payloads:*");
      } finally {
        client.disconnect();
      }
    };
    let worker: EmbeddingWorker;
    let queued: QueuedAnalyzer;
    const outcomes: string[] = [];
    const jobIds: string[] = [];

    before(async () => {
      redis = await startRedis();
      local = await LocalAnalyzer.open({ modelsDir, download: false, threads: 2 });
      worker = await EmbeddingWorker.start({
        redisUrl: redis.url,
        analyzer: local,
        space,
        onJob: ({ outcome, jobId }) => {
          outcomes.push(outcome);
          jobIds.push(jobId);
        },
      });
      queued = await QueuedAnalyzer.open({ redisUrl: redis.url, space });
    });
    after(async () => {
      await queued?.close();
      await worker?.close();
      await local?.close();
      await redis?.stop();
    });

    it("gives exactly the in-process analysis, typed arrays, hashes and thumbnail included", async () => {
      const cases: [string, AnalyzeOptions][] = [
        [files[0]!, {}],
        [files[1]!, { thumbnail: true }],
        [files[2]!, { flipped: true, centre: true, thumbnail: true }],
        [files[3]!, { flipped: true, urgent: true }],
      ];
      for (const [file, options] of cases) {
        // One at a time, so both sides run the model on batches of one.
        const expected = await local.analyze(file, options);
        const actual: AnalyzedImage = await queued.analyze(file, options);
        assert.deepStrictEqual(actual, expected, `${path.basename(file)} ${JSON.stringify(options)}`);
        assert.ok(actual.vector instanceof Float32Array && typeof actual.phash === "bigint");
        if (options.thumbnail) assert.ok(Buffer.isBuffer(actual.thumbnail));
      }
      assert.deepEqual(await payloadKeys(), [], "requests and results are gone from Redis once answered");
    });

    it("sends images queued together in shared jobs, gives each its own answer, and lets one caller give up alone", async () => {
      const batch = files.slice(4, 14);
      const outcomesBefore = outcomes.length;
      const controller = new AbortController();
      const analyses = batch.map((file, i) => queued.analyze(file, i === 5 ? { signal: controller.signal } : {}));
      setTimeout(() => controller.abort(), 30);
      const settled = await Promise.allSettled(analyses);
      const aborted = settled[5]!;
      assert.ok(aborted.status === "rejected" && isLookalikeError(aborted.reason, "aborted"), "the caller that gave up is told so");
      for (const [i, result] of settled.entries()) {
        if (i === 5) continue;
        assert.equal(result.status, "fulfilled", `${batch[i]}: ${result.status === "rejected" ? String(result.reason) : ""}`);
        // The model ran on batches here and one at a time there: equal up to int8 rounding.
        const expected = await local.analyze(batch[i]!);
        const actual = (result as PromiseFulfilledResult<AnalyzedImage>).value;
        const cosine = actual.vector.reduce((sum, v, k) => sum + v * expected.vector[k]!, 0);
        assert.ok(cosine > 0.999, `${path.basename(batch[i]!)}: its own vector (cosine ${cosine})`);
        assert.equal(actual.phash, expected.phash);
      }
      // Every image the workers were sent (the abandoned one too, unless it was taken back in time).
      await waitUntil("the workers to answer the images", async () => outcomes.length - outcomesBefore >= batch.length - 1, 10_000);
      const jobs = new Set(jobIds.slice(outcomesBefore));
      assert.ok(jobs.size < batch.length - 1, `fewer jobs than images (${jobs.size} for ${batch.length})`);
      await waitUntil("requests and results to leave Redis", async () => (await payloadKeys()).length === 0, 5000);
    });

    it("answers a bad image with the same typed error as in-process, once, without retrying it", async () => {
      for (const [bytes, code] of [
        [await damagedPng(), "corrupt"],
        [pngBomb(), "too_many_pixels"],
      ] as const) {
        const before = outcomes.length;
        const inProcess = await local.analyze(bytes).then(
          () => assert.fail("in-process analysis accepted a bad image"),
          (error: unknown) => error,
        );
        await assert.rejects(queued.analyze(bytes), (error: unknown) => {
          assert.ok(isLookalikeError(error, code), `expected ${code}, got ${String(error)}`);
          assert.ok(isLookalikeError(inProcess, code));
          assert.equal(error.message, inProcess.message);
          return true;
        });
        assert.deepEqual(outcomes.slice(before), ["refused"], "the worker saw the image once and answered it");
      }
    });

    it("checks the byte cap before queueing (a path is read here), as in-process", async () => {
      const capped = await QueuedAnalyzer.open({ redisUrl: redis.url, space, limits: { maxBytes: 1000 } });
      const before = outcomes.length;
      try {
        await assert.rejects(capped.analyze(files[0]!), (error: unknown) => isLookalikeError(error, "too_large"));
      } finally {
        await capped.close();
      }
      assert.equal(outcomes.length, before, "nothing was queued");
    });

    it("retries a job whose model fails, and on the last try fails only the image that fails again", async () => {
      // The only stand-in in this file: a model that crashes on one image cannot be made from the real one.
      const poison = await readFile(files[20]!);
      let poisonTries = 0;
      const failing = {
        analyze: (bytes: Buffer, options: AnalyzeOptions, limits: unknown) => {
          if (bytes.equals(poison)) {
            poisonTries++;
            return Promise.reject(new Error("the model crashed"));
          }
          return local.analyze(bytes, options, limits as undefined);
        },
      } as unknown as LocalAnalyzer;
      // A queue of its own (another pooling), so the real worker above never takes these jobs.
      const crashing = vectorSpace({ pooling: "spoc" });
      const crashWorker = await EmbeddingWorker.start({ redisUrl: redis.url, analyzer: failing, space: crashing });
      const producer = await QueuedAnalyzer.open({ redisUrl: redis.url, space: crashing });
      try {
        // The first goes alone (nothing in flight); the other three wait for it and share a job.
        const [first, ...rest] = [files[19]!, files[21]!, files[20]!, files[22]!];
        const results = await Promise.allSettled([producer.analyze(first!), ...rest.map((file) => producer.analyze(file))]);
        const [, , poisoned] = results;
        assert.ok(
          poisoned?.status === "rejected" && isLookalikeError(poisoned.reason, "queue_unavailable"),
          "the failing image is reported",
        );
        assert.match((poisoned as PromiseRejectedResult).reason.message, /the model crashed/);
        for (const i of [0, 1, 3]) assert.equal(results[i]!.status, "fulfilled", `image ${i} keeps its own answer`);
        assert.equal(poisonTries, 3, "tried on every attempt, no more");
      } finally {
        await producer.close();
        await crashWorker.close();
      }
    });

    it("stops waiting when the caller aborts, and takes back the job nobody started", async () => {
      // A vector space no worker serves: the job waits in its own queue.
      const unserved = vectorSpace({ pooling: "gem" });
      const orphan = await QueuedAnalyzer.open({ redisUrl: redis.url, space: unserved });
      try {
        assert.equal(await orphan.workerCount(), 0);
        const controller = new AbortController();
        const analysis = orphan.analyze(files[0]!, { signal: controller.signal });
        setTimeout(() => controller.abort(), 200);
        await assert.rejects(analysis, (error: unknown) => isLookalikeError(error, "aborted"));
        await waitUntil("the abandoned image's bytes to leave Redis", async () => (await payloadKeys()).length === 0, 5000);
        const queue = new Queue(queueName(unserved), { connection: { url: redis.url }, prefix: QUEUE_PREFIX });
        try {
          await waitUntil("the abandoned job to leave the queue", async () => (await queue.getJobCounts()).waiting === 0, 5000);
        } finally {
          await queue.close();
        }
      } finally {
        await orphan.close();
      }
    });
  });

  // A Redis of their own: workers share the stalled-job check through Redis, so one with the default
  // 30 s interval (like the one above) would delay the short-lock workers' checks here by as much.
  describe("with worker processes (npm run worker)", () => {
    let redis: TestRedis;
    const workerEnv = () => ({
      LOOKALIKE_REDIS_URL: redis.url,
      LOOKALIKE_WORKER_THREADS: "1",
      LOOKALIKE_WORKER_CONCURRENCY: "4",
      // Short locks, so a killed worker's jobs are retried within seconds rather than half a minute.
      LOOKALIKE_WORKER_LOCK_MS: "1500",
    });
    let workers: WorkerProcess[] = [];

    before(async () => {
      redis = await startRedis();
    });
    after(async () => {
      await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
      await redis?.stop();
    });

    it("loses no image and stores none twice when a worker is killed mid-job", async () => {
      workers = await Promise.all([startWorkerProcess(workerEnv()), startWorkerProcess(workerEnv())]);
      const [doomed, survivor] = workers as [WorkerProcess, WorkerProcess];
      const stalled = new QueueEvents(queueName(space), { connection: { url: redis.url }, prefix: QUEUE_PREFIX });
      const stalledJobs = new Set<string>();
      stalled.on("stalled", ({ jobId }) => stalledJobs.add(jobId));
      await stalled.waitUntilReady();
      // Two images per job: enough jobs that both workers hold some (with 8 per job, one worker can take them all).
      const analyzer = await QueuedAnalyzer.open({ redisUrl: redis.url, space, batch: { images: 2 } });
      const engine = await openTestEngine(await tempDir(), { analyzer });
      try {
        const batch = files.slice(0, 24);
        // Killed as soon as it has answered its first image: it then holds the rest of that job and the next ones (concurrency 4).
        const killed = doomed.firstJob.then(() => doomed.stop("SIGKILL"));
        const images = await Promise.all(batch.map((file) => engine.analyze(file, { thumbnail: true })));
        await killed;
        // Written as the CLI and the bot write: upserts by id, in one batch.
        await engine.add(
          "photos",
          images.map((image, i) => ({ image, meta: { id: batch[i]!, source: batch[i]! } })),
        );
        assert.ok(stalledJobs.size > 0, `the killed worker held jobs, which were retried:\n${doomed.log()}`);
        const table = await engine.collection("photos");
        assert.equal(await table.count(), batch.length, "one row per image");
        assert.deepEqual([...(await table.get(batch)).keys()].sort(), [...batch].sort(), "every image stored");
        assert.ok((survivor.finished.get("analyzed") ?? 0) >= stalledJobs.size, "the survivor took the stalled jobs");
      } finally {
        await engine.close();
        await stalled.close();
      }
    });

    it("lookalike index --db s3://… sends its images through the queue (no model here) and stores each once", async () => {
      const survivor = workers.find((worker) => worker.child.exitCode === null && worker.child.signalCode === null)!;
      const work = await tempDir();
      await mkdir(path.join(work, "imgs"));
      const batch = files.slice(16, 24);
      for (const file of batch) await copyFile(file, path.join(work, "imgs", path.basename(file)));
      const analyzedBefore = survivor.finished.get("analyzed") ?? 0;
      const analyzed = () => (survivor.finished.get("analyzed") ?? 0) - analyzedBefore;
      // The database in a (fake) bucket, as the check from outside does it; the CLI gets its AWS_* variables.
      const s3 = await useFakeS3();
      try {
        const db = s3.freshUri();
        // No model where the CLI runs, and no download: indexing works only if the workers embed.
        const noModels = await tempDir();
        const env = { LOOKALIKE_REDIS_URL: redis.url, LOOKALIKE_MODELS_DIR: noModels };
        const run = await runCli(["index", "--db", db, "--json", "--no-download", "imgs"], { cwd: work, env });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.lines[0]!.indexed, batch.length, run.stderr);
        assert.match(run.stderr, /embedding through redis:\/\/127\.0\.0\.1:\d+\/? \(queue embed-v\d+-.*\): 1 worker\(s\) connected/);
        await eventually(() => analyzed() === batch.length, `the worker analysed every image (it logged ${analyzed()})`);

        const info = await runCli(["info", "--db", db, "--json"], { cwd: work, env });
        assert.deepEqual(
          info.lines.map((line) => [line.collection, line.rows]),
          [["default", batch.length]],
        );
        // Without the queue this CLI has no model, so the same run fails: the proof the queue did the work.
        const local = await runCli(["index", "--db", s3.freshUri(), "--json", "--no-download", "imgs"], {
          cwd: work,
          env: { LOOKALIKE_REDIS_URL: undefined, LOOKALIKE_MODELS_DIR: noModels },
        });
        assert.equal(local.code, 1, local.stderr);
      } finally {
        await s3.stop();
      }
    });

    it("the bot sends posted images to the workers and answers /similar with its own model", async () => {
      const survivor = workers.find((worker) => worker.child.exitCode === null && worker.child.signalCode === null)!;
      const photos = await samplePhotos(2, 30);
      let guild!: GuildHandle;
      const h = await startHarness((fake) => void (guild = fake.addGuild({ name: "Queued", channels: [{ name: "general" }] })), {
        LOOKALIKE_REDIS_URL: redis.url,
      });
      try {
        const analyzedBefore = survivor.finished.get("analyzed") ?? 0;
        const posted = [];
        for (const [i, bytes] of photos.entries()) {
          posted.push(
            await h.fake.postMessage(guild.channel("general").id, { attachments: [h.fake.attachment({ filename: `p${i}.jpg`, bytes })] }),
          );
        }
        const table = await h.bot.context.engine.collection(guild.id);
        await eventually(async () => (await table.count()) === photos.length, "both posted images indexed");
        const analyzed = () => (survivor.finished.get("analyzed") ?? 0) - analyzedBefore;
        await eventually(() => analyzed() === photos.length, `the worker analysed both (it logged ${analyzed()})`);

        const handle = await h.fake.invokeCommand({
          name: "similar",
          channelId: guild.channel("general").id,
          options: [{ name: "image", attachment: h.fake.attachment({ filename: "q.jpg", bytes: await recompress(photos[1]!) }) }],
        });
        const reply = await handle.waitForReply(undefined, { timeoutMs: 20_000 });
        const text = ((reply.message?.embeds ?? []) as { description?: string }[]).map((embed) => embed.description ?? "").join("\n");
        assert.match(text, new RegExp(`/channels/\\d+/\\d+/${posted[1]!.id}`), "the original is found");
        await new Promise((resolve) => setTimeout(resolve, 300)); // a worker's log line would be here by now
        assert.equal(analyzed(), photos.length, "the query was embedded in the bot, not by the worker");
      } finally {
        await h.close();
      }
    });

    it("refuses a bad LOOKALIKE_REDIS_URL at start with one line", async () => {
      const run = await runCli(["index", "--db", "db", "imgs"], {
        cwd: await tempDir(),
        env: { LOOKALIKE_REDIS_URL: "http://127.0.0.1:1" },
      });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /^lookalike: LOOKALIKE_REDIS_URL: .*not Redis.*\(queue_config_invalid\)$/m);
    });
  });
});
