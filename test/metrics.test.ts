/** The metrics module and its HTTP endpoint, scraped over loopback the way Prometheus would. */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { register as globalRegistry } from "prom-client";
import { BotMetrics, type MetricSources } from "../src/bot/metrics.ts";
import { type HealthReport, healthReport, type MetricsServer, startMetricsServer } from "../src/bot/metrics-server.ts";

/** Mutable bot state behind the collect callbacks, so a test can change what a scrape reads. */
function fakeBot() {
  const state = { depths: { interactive: 2, background: 7 } as Record<string, number>, backlog: 4, connected: true };
  const sources: MetricSources = {
    queueDepths: () => state.depths,
    catchUpBacklog: () => state.backlog,
    gatewayConnected: () => state.connected,
  };
  return { state, sources };
}

/** The sample lines of a scrape (no # HELP / # TYPE), keyed by series, e.g. `x_total{a="b"}`. */
function samples(text: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const cut = line.lastIndexOf(" ");
    result.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return result;
}

describe("metrics endpoint", () => {
  const bot = fakeBot();
  const metrics = new BotMetrics(bot.sources);
  let health: HealthReport = healthReport(true, 0, 100);
  let server: MetricsServer;
  let base: string;

  before(async () => {
    server = await startMetricsServer({ port: 0, host: "127.0.0.1", metrics, health: () => health });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(() => server.close());

  const scrape = async () => {
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    return { text, series: samples(text) };
  };

  it("exposes the recorded counters, histograms and gauges with their values", async () => {
    metrics.imagesIndexed("live");
    metrics.imagesIndexed("live", 2);
    metrics.imagesIndexed("backfill", 10);
    metrics.imagesSkipped("too_small");
    metrics.repostAlert("reply");
    metrics.repostAlert("react");
    metrics.repostAlert("react");
    metrics.notARepostMarked();
    metrics.error("timeout");
    metrics.error("timeout");
    metrics.observeSimilar("similar", 0.3);
    metrics.observeSimilar("find_similar", 12);
    metrics.observeRepostCheck(0.07);
    metrics.observeModel(0.08, 4); // 4 images at 20 ms each

    const { text, series } = await scrape();
    const expected: Record<string, number> = {
      'lookalike_images_indexed_total{source="live"}': 3,
      'lookalike_images_indexed_total{source="catch_up"}': 0,
      'lookalike_images_indexed_total{source="backfill"}': 10,
      'lookalike_images_skipped_total{reason="too_small"}': 1,
      'lookalike_repost_alerts_total{action="reply"}': 1,
      'lookalike_repost_alerts_total{action="react"}': 2,
      'lookalike_repost_alerts_total{action="log"}': 0,
      lookalike_not_a_repost_marks_total: 1,
      'lookalike_errors_total{code="timeout"}': 2,
      'lookalike_queue_depth{lane="interactive"}': 2,
      'lookalike_queue_depth{lane="background"}': 7,
      lookalike_catch_up_backlog: 4,
      lookalike_gateway_connected: 1,
      'lookalike_similar_seconds_bucket{le="0.25",command="similar"}': 0,
      'lookalike_similar_seconds_bucket{le="0.5",command="similar"}': 1,
      'lookalike_similar_seconds_count{command="similar"}': 1,
      'lookalike_similar_seconds_bucket{le="10",command="find_similar"}': 0,
      'lookalike_similar_seconds_bucket{le="15",command="find_similar"}': 1,
      'lookalike_similar_seconds_sum{command="find_similar"}': 12,
      'lookalike_repost_check_seconds_bucket{le="0.05"}': 0,
      'lookalike_repost_check_seconds_bucket{le="0.1"}': 1,
      lookalike_repost_check_seconds_count: 1,
      'lookalike_model_seconds_per_image_bucket{le="0.01"}': 0,
      'lookalike_model_seconds_per_image_bucket{le="0.025"}': 4,
      lookalike_model_seconds_per_image_count: 4,
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(series.get(name), value, name);
    assert.ok(Math.abs((series.get("lookalike_model_seconds_per_image_sum") ?? 0) - 0.08) < 1e-9);
    // Every metric has help text, and process metrics are on once the server runs.
    assert.match(text, /# HELP lookalike_images_indexed_total Images added to the index/);
    assert.ok(series.has("lookalike_process_resident_memory_bytes") || series.has("lookalike_process_cpu_seconds_total"));
    assert.ok(series.has("lookalike_nodejs_heap_size_used_bytes"));
  });

  it("reads the gauges afresh on every scrape", async () => {
    bot.state.depths = { interactive: 1 };
    bot.state.backlog = 0;
    bot.state.connected = false;
    const { series } = await scrape();
    assert.equal(series.get('lookalike_queue_depth{lane="interactive"}'), 1);
    assert.equal(series.has('lookalike_queue_depth{lane="background"}'), false);
    assert.equal(series.get("lookalike_catch_up_backlog"), 0);
    assert.equal(series.get("lookalike_gateway_connected"), 0);
  });

  it("times commands with the timer helpers", async () => {
    const stop = metrics.timeSimilar("similar");
    await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = stop();
    assert.ok(seconds >= 0.015 && seconds < 5, `${seconds}`);
    metrics.timeRepostCheck()();
    metrics.timeModel(2)();
    const { series } = await scrape();
    assert.equal(series.get('lookalike_similar_seconds_count{command="similar"}'), 2);
    assert.equal(series.get("lookalike_repost_check_seconds_count"), 2);
    assert.equal(series.get("lookalike_model_seconds_per_image_count"), 6);
  });

  it("answers /healthz with 200 or 503 as the health function says", async () => {
    health = healthReport(true, 3, 100);
    let response = await fetch(`${base}/healthz`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(await response.json(), { ok: true, gatewayConnected: true, backlog: 3, backlogLimit: 100 });

    health = healthReport(true, 101, 100);
    response = await fetch(`${base}/healthz`);
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), { ok: false, gatewayConnected: true, backlog: 101, backlogLimit: 100 });

    health = healthReport(false, 0, 100);
    response = await fetch(`${base}/healthz?probe=1`);
    assert.equal(response.status, 503);
    assert.equal(((await response.json()) as HealthReport).gatewayConnected, false);
  });

  it("supports HEAD, refuses other methods and unknown paths", async () => {
    health = healthReport(true, 0, 100);
    const head = await fetch(`${base}/metrics`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.ok(Number(head.headers.get("content-length")) > 0);
    assert.equal(await head.text(), "");
    assert.equal((await fetch(`${base}/healthz`, { method: "HEAD" })).status, 200);

    const post = await fetch(`${base}/metrics`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.body?.cancel();
    for (const path of ["/", "/metrics/x", "/health", "/favicon.ico"]) {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.status, 404, path);
      await response.body?.cancel();
    }
  });

  it("answers 500, not 503, when the health check itself fails", async () => {
    const failing = await startMetricsServer({
      port: 0,
      host: "127.0.0.1",
      metrics: new BotMetrics(fakeBot().sources),
      health: () => {
        throw new Error("state unavailable");
      },
    });
    try {
      const response = await fetch(`http://127.0.0.1:${failing.port}/healthz`);
      assert.equal(response.status, 500);
      assert.match(await response.text(), /state unavailable/);
    } finally {
      await failing.close();
    }
  });
});

describe("BotMetrics", () => {
  it("keeps each instance's values apart and leaves the global registry alone", async () => {
    const a = new BotMetrics(fakeBot().sources);
    const b = new BotMetrics(fakeBot().sources);
    a.imagesIndexed("live", 5);
    b.imagesIndexed("live", 1);
    a.enableProcessMetrics();
    b.enableProcessMetrics();
    a.enableProcessMetrics(); // idempotent: registering twice would throw
    assert.equal(samples(await a.text()).get('lookalike_images_indexed_total{source="live"}'), 5);
    assert.equal(samples(await b.text()).get('lookalike_images_indexed_total{source="live"}'), 1);
    assert.equal(globalRegistry.getSingleMetric("lookalike_images_indexed_total"), undefined);
  });

  it("does not register process metrics until asked", async () => {
    const text = await new BotMetrics(fakeBot().sources).text();
    assert.doesNotMatch(text, /nodejs_|process_/);
  });

  it("counts a batch's model time once per image", async () => {
    const metrics = new BotMetrics(fakeBot().sources);
    metrics.observeModel(1, 0); // an empty batch records nothing
    metrics.observeModel(0.5, 5);
    const series = samples(await metrics.text());
    assert.equal(series.get("lookalike_model_seconds_per_image_count"), 5);
    assert.equal(series.get('lookalike_model_seconds_per_image_bucket{le="0.1"}'), 5);
    assert.equal(series.get('lookalike_model_seconds_per_image_bucket{le="0.05"}'), 0);
  });
});

describe("healthReport", () => {
  it("is ok only while connected with the backlog within its limit", () => {
    assert.equal(healthReport(true, 10, 10).ok, true);
    assert.equal(healthReport(true, 11, 10).ok, false);
    assert.equal(healthReport(false, 0, 10).ok, false);
  });
});

describe("startMetricsServer ports", () => {
  it("rejects a busy port with a message naming the port and the setting", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    try {
      await assert.rejects(
        startMetricsServer({ port, host: "127.0.0.1", metrics: new BotMetrics(fakeBot().sources), health: () => healthReport(true, 0, 1) }),
        (error: Error) => {
          assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}: the port is already in use`));
          assert.match(error.message, /LOOKALIKE_METRICS_PORT/);
          return true;
        },
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("frees the port on close(), even with a keep-alive scraper connected", async () => {
    const options = { host: "127.0.0.1", metrics: new BotMetrics(fakeBot().sources), health: () => healthReport(true, 0, 1) };
    const first = await startMetricsServer({ ...options, port: 0 });
    assert.ok(first.port > 0);
    const response = await fetch(`http://127.0.0.1:${first.port}/metrics`); // fetch keeps the connection alive
    await response.text();
    await first.close();
    await first.close(); // idempotent
    await assert.rejects(fetch(`http://127.0.0.1:${first.port}/metrics`));
    // The same port can be taken again at once, by the same BotMetrics.
    const second = await startMetricsServer({ ...options, port: first.port });
    assert.equal(second.port, first.port);
    await second.close();
  });
});
