/**
 * `/similar` as a member sees it: from invoking the command to the edit that carries the answer
 * (the bot defers first; a deferred reply shows "thinking…" and does not count). One query at a
 * time, with a pause between, like a person asking again and again.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { APIEmbed } from "discord-api-types/v10";
import type { FakeDiscord } from "../../test/support/fake-discord/index.ts";

export type Outcome = "answered" | "error" | "timeout";

export interface QueryResult {
  /** When the query was invoked, ms since the phase started. */
  readonly startMs: number;
  /** Invoke → answer, ms; null for a timeout. */
  readonly ms: number | null;
  readonly outcome: Outcome;
  /** The posted original was the first match (a fast wrong answer is no answer). */
  readonly originalFirst: boolean;
}

export interface Query {
  readonly bytes: Buffer;
  /** The message holding the original, expected first. */
  readonly originalMessageId: string;
}

/** The message id of the first jump link in the answer's embeds. */
function firstMatch(embeds: readonly APIEmbed[]): string | undefined {
  const text = embeds.map((embed) => embed.description ?? "").join("\n");
  return /\/channels\/\d+\/\d+\/(\d+)/.exec(text)?.[1];
}

export async function askSimilar(
  fake: FakeDiscord,
  channelId: string,
  query: Query,
  timeoutMs: number,
  phaseStart: number,
): Promise<QueryResult> {
  const started = Date.now();
  const startMs = performance.now() - phaseStart;
  const handle = await fake.invokeCommand({
    name: "similar",
    channelId,
    options: [{ name: "image", attachment: fake.attachment({ filename: "query.jpg", bytes: query.bytes }) }],
  });
  try {
    const reply = await handle.waitForReply(undefined, { timeoutMs });
    // `at` is when the fake received the edit: the harness's own event loop adds nothing after it.
    const ms = reply.at.getTime() - started;
    const embeds = (reply.message?.embeds ?? []) as APIEmbed[];
    const match = firstMatch(embeds);
    // An answer always lists matches or says there are none; anything else is an error message.
    const outcome: Outcome = embeds.length > 0 ? "answered" : "error";
    return { startMs, ms, outcome, originalFirst: match === query.originalMessageId };
  } catch {
    return { startMs, ms: null, outcome: "timeout", originalFirst: false };
  }
}

export interface SeriesOptions {
  readonly fake: FakeDiscord;
  readonly channelId: string;
  readonly queries: readonly Query[];
  readonly timeoutMs: number;
  readonly gapMs: number;
  /** performance.now() the phase started at (the `startMs` origin). */
  readonly phaseStart: number;
  /** Asks until this says stop (checked before each query), or `count` queries. */
  readonly until?: () => boolean;
  readonly count?: number;
  readonly onResult?: (result: QueryResult) => void;
}

/** Back to back, `gapMs` apart, cycling through `queries`. */
export async function querySeries(options: SeriesOptions): Promise<QueryResult[]> {
  const { fake, channelId, queries, timeoutMs, gapMs, phaseStart, until, count = Number.POSITIVE_INFINITY } = options;
  const results: QueryResult[] = [];
  while (results.length < count && !until?.()) {
    if (results.length > 0) await sleep(gapMs);
    if (until?.()) break;
    const result = await askSimilar(fake, channelId, queries[results.length % queries.length]!, timeoutMs, phaseStart);
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}
