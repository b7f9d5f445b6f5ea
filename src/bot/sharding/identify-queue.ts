/**
 * Identify pacing across shard processes. Discord lets a bot start `max_concurrency` sessions
 * every 5 seconds, one per bucket `shard_id % max_concurrency` (`GET /gateway/bot`). discord.js
 * paces identifies with `SimpleIdentifyThrottler`, but per WebSocketManager, i.e. per process;
 * the ShardingManager only spaces out spawns by a fixed delay, which neither follows
 * `max_concurrency` nor covers re-identifies after a lost session. So the manager runs the one
 * throttler (discord.js's own) and every shard process asks it over the IPC channel before each
 * identify — what @discordjs/ws's WorkerShardingStrategy does for worker threads — with
 * `serveIdentifies` on the manager's side and `ManagerIdentifyThrottler` on the shard's.
 */
import type { IIdentifyThrottler, Shard } from "discord.js";

/**
 * Set by the manager in its shards' environment: their identifies go through it. A process that some
 * other ShardingManager started gets no answer to these requests, so it must not send them.
 */
export const IDENTIFY_QUEUE_ENV = "LOOKALIKE_IDENTIFY_QUEUE";

const REQUEST = "lookalikeIdentify";
const GRANT = "lookalikeIdentifyGranted";

interface IdentifyRequest {
  readonly [REQUEST]: number;
}
interface IdentifyGrant {
  readonly [GRANT]: number;
}

const isRequest = (message: unknown): message is IdentifyRequest =>
  typeof message === "object" && message !== null && typeof (message as Partial<IdentifyRequest>)[REQUEST] === "number";
const isGrant = (message: unknown): message is IdentifyGrant =>
  typeof message === "object" && message !== null && typeof (message as Partial<IdentifyGrant>)[GRANT] === "number";

/**
 * Manager side: answers the shard's identify requests once `throttler` lets that shard identify.
 * Requests of a process that died are dropped, so they never hold a slot.
 */
export function serveIdentifies(shard: Shard, throttler: IIdentifyThrottler): void {
  let life = new AbortController();
  shard.on("spawn", () => (life = new AbortController()));
  shard.on("death", () => life.abort());
  shard.on("message", (message: unknown) => {
    if (!isRequest(message)) return;
    const { signal } = life;
    throttler.waitForIdentify(shard.id, signal).then(
      () => shard.send({ [GRANT]: message[REQUEST] } satisfies IdentifyGrant).catch(() => undefined),
      // Aborted: the process is gone, and so is its request.
      () => undefined,
    );
  });
}

/** What a shard process talks to its manager through: `process` when the manager forked it. */
export interface ManagerChannel {
  send(message: unknown, callback: (error: Error | null) => void): unknown;
  on(event: "message", listener: (message: unknown) => void): unknown;
  off(event: "message", listener: (message: unknown) => void): unknown;
}

/** Shard side: discord.js's identify throttler (`ws.buildIdentifyThrottler`) that waits for the manager's grant. */
export class ManagerIdentifyThrottler implements IIdentifyThrottler {
  private requests = 0;

  constructor(private readonly channel: ManagerChannel) {}

  waitForIdentify(_shardId: number, signal: AbortSignal): Promise<void> {
    const request = ++this.requests;
    return new Promise((resolve, reject) => {
      const settle = (error?: unknown) => {
        this.channel.off("message", onMessage);
        signal.removeEventListener("abort", onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onMessage = (message: unknown) => {
        if (isGrant(message) && message[GRANT] === request) settle();
      };
      const onAbort = () => settle(signal.reason ?? new Error("identify aborted"));
      if (signal.aborted) return onAbort();
      this.channel.on("message", onMessage);
      signal.addEventListener("abort", onAbort, { once: true });
      // A manager that is gone cannot grant anything: fail, and discord.js tries again later.
      this.channel.send({ [REQUEST]: request } satisfies IdentifyRequest, (error) => {
        if (error) settle(error);
      });
    });
  }
}
