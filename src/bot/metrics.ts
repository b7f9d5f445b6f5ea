/**
 * The bot's Prometheus metrics. Callers use the typed methods below and never touch prom-client,
 * so metric names, label sets and buckets live in this one file.
 *
 * Each BotMetrics owns its own Registry instead of prom-client's global one: registering the same
 * metric name twice in one registry throws, and tests (or several bots in one process) each create
 * their own BotMetrics.
 *
 * The class is cheap on purpose: the bot always creates one, even with the metrics endpoint off.
 * Recording a value is a map update; the gauges read the bot's state only when scraped; and the
 * default process metrics, which start an event-loop-delay monitor and a GC observer that run until
 * the process exits, are registered only by `enableProcessMetrics()` (the metrics server calls it).
 */

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { REPOST_ACTIONS, type RepostAction } from "./guild-state.ts";

export const METRIC_PREFIX = "lookalike_";

/** How an image reached the index. */
export type IndexSource = "live" | "catch_up" | "backfill";
/** What the bot did about a suspected repost. */
export type AlertAction = RepostAction;
/** The commands that search for similar images. */
export type SimilarCommand = "similar" | "find_similar";

const INDEX_SOURCES: readonly IndexSource[] = ["live", "catch_up", "backfill"];
const ALERT_ACTIONS: readonly AlertAction[] = REPOST_ACTIONS;
const SIMILAR_COMMANDS: readonly SimilarCommand[] = ["similar", "find_similar"];

/** The bot's live state, read at scrape time; the functions must be cheap and must not throw. */
export interface MetricSources {
  /** Tasks waiting or running per work lane ("interactive", "background"). */
  queueDepths: () => Readonly<Record<string, number>>;
  /** Channels waiting to be caught up. */
  catchUpBacklog: () => number;
  /** Whether the Discord gateway connection is up. */
  gatewayConnected: () => boolean;
}

/** Stops a timer, records the elapsed time and returns it in seconds. */
export type StopTimer = () => number;

// A slash command answers within Discord's interaction window; a long /similar is still < 30 s.
const SIMILAR_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 15, 20, 30];
// A repost check (fetch, decode, embed, search) on a posted image: tens of ms up to seconds.
const REPOST_CHECK_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// One image through the model: ~1 ms batched on a fast CPU, up to ~1 s on a small machine.
const MODEL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export class BotMetrics {
  readonly registry = new Registry();
  private processMetrics = false;

  private readonly indexed: Counter<"source">;
  private readonly skipped: Counter<"reason">;
  private readonly alerts: Counter<"action">;
  private readonly notARepost: Counter;
  private readonly errors: Counter<"code">;
  private readonly similar: Histogram<"command">;
  private readonly repostCheck: Histogram;
  private readonly model: Histogram;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    const name = (suffix: string) => METRIC_PREFIX + suffix;

    new Gauge({
      name: name("queue_depth"),
      help: "Tasks waiting or running, per work lane.",
      labelNames: ["lane"],
      registers,
      collect() {
        // Reset first so a lane that no longer exists stops being reported.
        this.reset();
        for (const [lane, depth] of Object.entries(sources.queueDepths())) this.set({ lane }, depth);
      },
    });
    new Gauge({
      name: name("catch_up_backlog"),
      help: "Channels waiting to be caught up.",
      registers,
      collect() {
        this.set(sources.catchUpBacklog());
      },
    });
    new Gauge({
      name: name("gateway_connected"),
      help: "1 while the Discord gateway connection is up, else 0.",
      registers,
      collect() {
        this.set(sources.gatewayConnected() ? 1 : 0);
      },
    });

    this.indexed = new Counter({
      name: name("images_indexed_total"),
      help: "Images added to the index, by how they arrived (live, catch_up, backfill).",
      labelNames: ["source"],
      registers,
    });
    this.skipped = new Counter({
      name: name("images_skipped_total"),
      help: "Images not indexed, by reason.",
      labelNames: ["reason"],
      registers,
    });
    this.alerts = new Counter({
      name: name("repost_alerts_total"),
      help: "Repost alerts, by action taken (reply, react, log).",
      labelNames: ["action"],
      registers,
    });
    this.notARepost = new Counter({
      name: name("not_a_repost_marks_total"),
      help: "Repost alerts that a user marked as not a repost.",
      registers,
    });
    this.errors = new Counter({
      name: name("errors_total"),
      help: "Errors, by error code.",
      labelNames: ["code"],
      registers,
    });
    this.similar = new Histogram({
      name: name("similar_seconds"),
      help: "Time to answer a similar-image command, in seconds.",
      labelNames: ["command"],
      buckets: SIMILAR_BUCKETS,
      registers,
    });
    this.repostCheck = new Histogram({
      name: name("repost_check_seconds"),
      help: "Time to check a posted image for reposts, in seconds.",
      buckets: REPOST_CHECK_BUCKETS,
      registers,
    });
    this.model = new Histogram({
      name: name("model_seconds_per_image"),
      help: "Model inference time per image, in seconds (a batch's time divided by its size).",
      buckets: MODEL_BUCKETS,
      registers,
    });

    // Report the known label values as 0 from the start, so rate() and absence alerts work before
    // the first event instead of the series appearing out of nowhere.
    for (const source of INDEX_SOURCES) this.indexed.inc({ source }, 0);
    for (const action of ALERT_ACTIONS) this.alerts.inc({ action }, 0);
    for (const command of SIMILAR_COMMANDS) this.similar.zero({ command });
  }

  /** Registers Node's process metrics (CPU, memory, event loop lag, GC, ...); idempotent. */
  enableProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  imagesIndexed(source: IndexSource, count = 1): void {
    this.indexed.inc({ source }, count);
  }

  /** `reason` becomes a label value: pass one of a fixed set of codes, never free text. */
  imagesSkipped(reason: string, count = 1): void {
    this.skipped.inc({ reason }, count);
  }

  repostAlert(action: AlertAction): void {
    this.alerts.inc({ action });
  }

  notARepostMarked(): void {
    this.notARepost.inc();
  }

  /** `code` becomes a label value: pass an error code (see errorCode()), never a message. */
  error(code: string): void {
    this.errors.inc({ code });
  }

  observeSimilar(command: SimilarCommand, seconds: number): void {
    this.similar.observe({ command }, seconds);
  }

  timeSimilar(command: SimilarCommand): StopTimer {
    return this.similar.startTimer({ command });
  }

  observeRepostCheck(seconds: number): void {
    this.repostCheck.observe(seconds);
  }

  timeRepostCheck(): StopTimer {
    return this.repostCheck.startTimer();
  }

  /**
   * Records one model run over `images` images that took `seconds` in all. Each image counts as
   * one observation of the per-image time, so `_count` is the number of images embedded and `_sum`
   * the total model time, whatever the batch sizes were.
   */
  observeModel(seconds: number, images = 1): void {
    if (images <= 0) return;
    const perImage = seconds / images;
    for (let i = 0; i < images; i++) this.model.observe(perImage);
  }

  /** Times a model run over `images` images; see observeModel. */
  timeModel(images = 1): StopTimer {
    const start = process.hrtime.bigint();
    return () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      this.observeModel(seconds, images);
      return seconds;
    };
  }

  /** The Content-Type header for `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
