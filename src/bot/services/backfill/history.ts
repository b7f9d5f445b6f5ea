/**
 * Talking to Discord during a backfill: one page of history, with patience for outages.
 *
 * discord.js's REST client already waits out 429s and retries 5xx/timeouts a few times, so what
 * reaches us is either permanent (403 no access, 404 gone) or an outage that outlasted those
 * retries. For an outage we wait with a growing backoff a few more times, then give up on that
 * channel with its checkpoint intact: a later run continues it. No tight loops of our own.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type AnyThreadChannel, type Collection, DiscordAPIError, type Message, type NewsChannel, type TextChannel } from "discord.js";
import type { Logger } from "pino";

/** A channel whose history we read: text and announcement channels, and their public threads. */
export type HistoryChannel = TextChannel | NewsChannel | AnyThreadChannel;

export const PAGE_SIZE = 100;

/** Why a channel was not (fully) scanned; shown to moderators as-is (underscores as spaces). */
export type ChannelStopReason = "no_access" | "gone" | "discord_unavailable";

export class ChannelStopped extends Error {
  override readonly name = "ChannelStopped";
  constructor(
    readonly reason: ChannelStopReason,
    options?: ErrorOptions,
  ) {
    super(`channel stopped: ${reason}`, options);
  }
}

/** 403/404 will not get better by waiting; anything else (5xx, network, timeouts) might. */
export function stopReasonOf(error: unknown): ChannelStopReason | null {
  if (!(error instanceof DiscordAPIError) || error.status >= 500) return null;
  if (error.status === 404) return "gone";
  if (error.status === 403) return "no_access";
  return null;
}

export interface RetryPolicy {
  /** Waits before each further attempt after an outage; its length is the number of retries. */
  readonly delaysMs: readonly number[];
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** Resolves with `promise`, or rejects as soon as `signal` aborts (the promise's result is then ignored). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * Runs `call` until it succeeds; permanent failures and outages that outlast the policy become
 * `ChannelStopped`. Abort rejects with the signal's reason at once, even mid-request.
 */
export async function withRetries<T>(what: string, call: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await abortable(call(), policy.signal);
    } catch (error) {
      policy.signal.throwIfAborted();
      const permanent = stopReasonOf(error);
      if (permanent) throw new ChannelStopped(permanent, { cause: error });
      const delay = policy.delaysMs[attempt];
      if (delay === undefined) throw new ChannelStopped("discord_unavailable", { cause: error });
      policy.logger.warn({ err: error, what, attempt: attempt + 1, retryInMs: delay }, "Discord call failed during backfill; retrying");
      await sleep(delay, undefined, { signal: policy.signal });
    }
  }
}

/** Up to 100 messages older than `before` (newest first), bypassing discord.js's message cache. */
export function fetchHistoryPage(
  channel: HistoryChannel,
  before: string | null,
  policy: RetryPolicy,
): Promise<Collection<string, Message<true>>> {
  return withRetries(
    `history of ${channel.id}`,
    () => channel.messages.fetch({ limit: PAGE_SIZE, cache: false, ...(before ? { before } : {}) }),
    policy,
  );
}
