/**
 * Per channel (or thread), the durable "indexed up to" point of live indexing: the newest message
 * id such that every message up to it has its images stored (or was skipped for a reason that
 * will not change, like a corrupt file). Messages finish out of order, so the point only moves
 * past a message once it and every earlier one in flight are done; a message that could not be
 * stored (deferred under load, a failed write) holds it back until a catch-up has read past it.
 * Restarts and reconnects continue from here (channel-sync.ts), so nothing posted is lost, and
 * every write is idempotent, so reading a message twice stores nothing twice.
 */
import { SnowflakeUtil } from "discord.js";
import type { Logger } from "pino";
import type { GuildStateStore } from "../guild-state.ts";

const id = (snowflake: string) => BigInt(snowflake);

/**
 * A server joined while the bot runs: how far before its first look at it the bot takes
 * responsibility for its messages (the seconds between the gateway delivering a message and
 * `load` are the need, a minute is the margin).
 */
const FIRST_WATCH_MARGIN_MS = 60_000;
/** Between Discord's clock (message ids) and this machine's. */
const CLOCK_SKEW_MS = 1_000;
/** The largest (or smallest) of non-empty bigints; Math.max/min do not take bigints. */
function extreme(values: Iterable<bigint>, larger: boolean): bigint {
  let best: bigint | undefined;
  for (const value of values) if (best === undefined || (larger ? value > best : value < best)) best = value;
  return best!;
}

/** The in-memory bookkeeping of one channel: a pure state machine over message ids. */
export class ChannelWatermark {
  private readonly pending = new Set<bigint>();
  private readonly held = new Set<bigint>();
  private readonly done = new Set<bigint>();

  constructor(private safe: bigint) {}

  get position(): bigint {
    return this.safe;
  }

  /** A message starts being indexed. */
  begin(messageId: bigint): void {
    if (messageId > this.safe) this.pending.add(messageId);
  }

  /** Its images are stored (or skipped for good). Returns true if the position moved. */
  finish(messageId: bigint): boolean {
    this.pending.delete(messageId);
    if (messageId > this.safe) this.done.add(messageId);
    return this.settle();
  }

  /** It could not be stored now: the position stays below it until `advanceTo` passes it. */
  hold(messageId: bigint): void {
    this.pending.delete(messageId);
    if (messageId > this.safe) this.held.add(messageId);
  }

  /** A catch-up stored everything up to `messageId`. Returns true if the position moved. */
  advanceTo(messageId: bigint): boolean {
    if (messageId <= this.safe) return false;
    this.safe = messageId;
    for (const set of [this.pending, this.held, this.done]) for (const value of set) if (value <= messageId) set.delete(value);
    this.settle();
    return true;
  }

  private settle(): boolean {
    const blockers = [...this.pending, ...this.held];
    const floor = blockers.length > 0 ? extreme(blockers, false) : null;
    const finished = [...this.done].filter((value) => floor === null || value < floor);
    if (finished.length === 0) return false;
    const next = extreme(finished, true);
    for (const value of finished) this.done.delete(value);
    if (next <= this.safe) return false;
    this.safe = next;
    return true;
  }
}

export class LiveCheckpoints {
  private readonly channels = new Map<string, Map<string, ChannelWatermark>>();
  private readonly since = new Map<string, bigint>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly state: GuildStateStore,
    private readonly logger: Logger,
    /** Checkpoints are saved at most this often: a crash re-reads a second of messages, and stores none twice. */
    private readonly saveDelayMs = 1_000,
    /** When this process started watching (before it connected): no message it receives live is older. */
    private readonly watchingSince = Date.now(),
  ) {}

  /**
   * Loads a server's checkpoints. The first time the bot watches a server, its starting point is
   * when this process started watching, or a minute ago for a server joined since (older history
   * is `/index`'s job). Not "now": messages posted while the bot was connecting arrive live before
   * this runs, and one of them that was not stored then (the background lane was full, or the
   * process was killed) would sit before the starting point, where no catch-up reads (a
   * clean-clone CI run lost the first image of a burst so).
   */
  async load(guildId: string): Promise<void> {
    if (this.since.has(guildId)) return;
    let { live } = await this.state.get(guildId);
    if (!live.since) {
      const startMs = Math.max(this.watchingSince - CLOCK_SKEW_MS, Date.now() - FIRST_WATCH_MARGIN_MS);
      const start = SnowflakeUtil.generate({ timestamp: startMs }).toString();
      live = (await this.state.update(guildId, (state) => void (state.live.since ??= start))).live;
    }
    if (this.since.has(guildId)) return;
    const channels = new Map<string, ChannelWatermark>();
    for (const [channelId, position] of Object.entries(live.channels)) channels.set(channelId, new ChannelWatermark(id(position)));
    this.channels.set(guildId, channels);
    this.since.set(guildId, id(live.since!));
  }

  /** The channel's position; `load` the server first. */
  position(guildId: string, channelId: string): string {
    return this.watermark(guildId, channelId).position.toString();
  }

  begin(guildId: string, channelId: string, messageId: string): void {
    this.watermark(guildId, channelId).begin(id(messageId));
  }

  finish(guildId: string, channelId: string, messageId: string): void {
    if (this.watermark(guildId, channelId).finish(id(messageId))) this.markDirty(guildId);
  }

  hold(guildId: string, channelId: string, messageId: string): void {
    this.watermark(guildId, channelId).hold(id(messageId));
  }

  advanceTo(guildId: string, channelId: string, messageId: string): void {
    if (this.watermark(guildId, channelId).advanceTo(id(messageId))) this.markDirty(guildId);
  }

  /** Whether the channel has messages past its position (from the channel's last message id). */
  behind(guildId: string, channelId: string, lastMessageId: string | null): boolean {
    return lastMessageId !== null && id(lastMessageId) > this.watermark(guildId, channelId).position;
  }

  /** Writes every changed checkpoint now (on shutdown). */
  async save(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const guilds = [...this.dirty];
    this.dirty.clear();
    await Promise.all(
      guilds.map((guildId) =>
        this.state
          .update(guildId, (state) => {
            for (const [channelId, watermark] of this.channels.get(guildId) ?? []) {
              state.live.channels[channelId] = watermark.position.toString();
            }
          })
          .catch((error: unknown) => {
            this.dirty.add(guildId);
            this.logger.warn({ err: error, guildId }, "could not save live checkpoints; retrying");
          }),
      ),
    );
  }

  /** Forgets a channel (deleted) or a whole server (the bot left). */
  forget(guildId: string, channelId?: string): void {
    if (channelId) this.channels.get(guildId)?.delete(channelId);
    else {
      this.channels.delete(guildId);
      this.since.delete(guildId);
      this.dirty.delete(guildId);
    }
  }

  private watermark(guildId: string, channelId: string): ChannelWatermark {
    const channels = this.channels.get(guildId);
    const since = this.since.get(guildId);
    if (!channels || since === undefined) throw new Error(`live checkpoints of server ${guildId} used before load()`);
    let watermark = channels.get(channelId);
    if (!watermark) {
      watermark = new ChannelWatermark(since);
      channels.set(channelId, watermark);
    }
    return watermark;
  }

  private markDirty(guildId: string): void {
    this.dirty.add(guildId);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.save();
    }, this.saveDelayMs);
  }
}
