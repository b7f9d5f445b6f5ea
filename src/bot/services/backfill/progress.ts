/**
 * What a backfill reports while it runs, and how that reads as text. Where the text goes (an
 * interaction reply, a channel message, the log) is a `ProgressSink`, so the job itself never
 * touches Discord's message APIs.
 */
import type { Logger } from "pino";

export type BackfillPhase = "discovering" | "running" | "done" | "cancelled" | "stopped" | "failed";

export interface BackfillReport {
  readonly guildId: string;
  /** "the whole server" or a channel mention. */
  readonly scope: string;
  readonly phase: BackfillPhase;
  /** Whether this run continues an interrupted backfill (counts include the earlier runs). */
  readonly continued: boolean;
  readonly elapsedMs: number;
  /** Estimated share of the history done, 0–1 (by message timestamps; see job.ts). */
  readonly fraction: number;
  readonly etaMs: number | null;
  readonly channels: {
    readonly total: number;
    readonly done: number;
    readonly running: number;
    /** Channels (or threads) not scanned, by reason: no_access, gone, discord_unavailable. */
    readonly skipped: Readonly<Record<string, number>>;
  };
  /** Totals of the whole backfill pass (earlier runs of it included). */
  readonly messagesScanned: number;
  /** Images in the index from the scanned history (newly embedded or already there). */
  readonly imagesIndexed: number;
  readonly imagesSkipped: number;
  /** This run only. */
  readonly run: {
    readonly messagesScanned: number;
    readonly imagesNew: number;
    readonly imagesAlreadyIndexed: number;
    /** Reason code (too_large, opted_out, ...) → images. */
    readonly skippedByReason: Readonly<Record<string, number>>;
    readonly messagesPerSecond: number;
  };
}

export interface ProgressSink {
  /** Minimum time between two updates; the final report is always sent. */
  readonly intervalMs?: number;
  update(report: BackfillReport): Promise<void>;
}

const BAR_WIDTH = 20;

export function progressBar(fraction: number, width = BAR_WIDTH): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${Math.floor(fraction * 100)}%`;
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const number = (value: number) => value.toLocaleString("en-US");

export function formatReasons(reasons: Readonly<Record<string, number>>): string {
  return Object.entries(reasons)
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, count]) => `${reason.replaceAll("_", " ")} ${number(count)}`)
    .join(", ");
}

const HEADLINES: Record<BackfillPhase, string> = {
  discovering: "🔎 Finding channels and threads…",
  running: "⏳ Indexing",
  done: "✅ Finished",
  cancelled: "⏹️ Cancelled: run `/index` again to continue where it stopped",
  stopped: "⏸️ Paused while the bot restarts; it continues by itself",
  failed: "⚠️ Stopped by an error: run `/index` again to continue where it stopped",
};

/** The progress message: headline, bar, counts, rate and ETA. */
export function renderProgress(report: BackfillReport): string {
  const { channels, run } = report;
  const finished = report.phase !== "discovering" && report.phase !== "running";
  const incomplete = report.phase === "done" && channels.done < channels.total;
  const lines = [
    `**Backfill of ${report.scope}**${report.continued ? " (continued)" : ""} · ${HEADLINES[report.phase]}` +
      (incomplete ? " (some channels could not be read: `/index` later finishes them)" : ""),
  ];
  lines.push(`\`${progressBar(report.fraction)}\``);
  const skippedChannels = Object.values(channels.skipped).reduce((sum, count) => sum + count, 0);
  lines.push(
    `Channels and threads: ${number(channels.done)} of ${number(channels.total)} done` +
      (channels.running > 0 && !finished ? ` · ${channels.running} in progress` : "") +
      (skippedChannels > 0 ? ` · ${skippedChannels} skipped (${formatReasons(channels.skipped)})` : ""),
  );
  lines.push(`Messages scanned: ${number(report.messagesScanned)}`);
  const imageLine = [`Images indexed: ${number(report.imagesIndexed)}`];
  if (run.imagesAlreadyIndexed > 0) imageLine.push(`${number(run.imagesAlreadyIndexed)} of them were already in the index`);
  if (report.imagesSkipped > 0) {
    const reasons = formatReasons(run.skippedByReason);
    imageLine.push(`skipped: ${number(report.imagesSkipped)}${reasons ? ` (${reasons})` : ""}`);
  }
  lines.push(imageLine.join(" · "));
  const timing = [`Elapsed: ${formatDuration(report.elapsedMs)}`, `${number(Math.round(run.messagesPerSecond))} messages/s`];
  if (!finished) timing.push(`ETA: ${report.etaMs === null ? "estimating…" : `~${formatDuration(report.etaMs)}`}`);
  lines.push(timing.join(" · "));
  return lines.join("\n");
}

/** For jobs nobody is watching in Discord (resumed after a restart): a log line now and then. */
export function logProgressSink(logger: Logger, intervalMs = 30_000): ProgressSink {
  return {
    intervalMs,
    async update(report) {
      const { run, channels } = report;
      logger.info(
        {
          guildId: report.guildId,
          phase: report.phase,
          percent: Math.floor(report.fraction * 100),
          channels,
          messagesScanned: report.messagesScanned,
          imagesIndexed: report.imagesIndexed,
          imagesSkipped: report.imagesSkipped,
          skippedByReason: run.skippedByReason,
          messagesPerSecond: Math.round(run.messagesPerSecond),
          etaMs: report.etaMs,
        },
        "backfill progress",
      );
    },
  };
}

export interface Reporter {
  /** Stops the periodic updates and waits for the one in flight. */
  pause(): Promise<void>;
  /** Sends the current report now. */
  flush(): Promise<void>;
}

/**
 * Sends `current()` to the sink every `intervalMs` — a timer, not a per-page update: pages come
 * every few hundred ms and Discord rate-limits message edits. Never two updates at once; a failing
 * sink is logged, never fatal.
 */
export function startReporter(sink: ProgressSink, intervalMs: number, current: () => BackfillReport, logger: Logger): Reporter {
  let inFlight: Promise<void> | null = null;
  const push = () => {
    inFlight ??= sink
      .update(current())
      .catch((error: unknown) => logger.warn({ err: error }, "could not show backfill progress"))
      .finally(() => (inFlight = null));
    return inFlight;
  };
  const timer = setInterval(() => void push(), intervalMs);
  timer.unref();
  return {
    async pause() {
      clearInterval(timer);
      await inFlight;
    },
    flush: push,
  };
}
