/**
 * Refuses a write to a server this shard does not own. The server's index (GuildIndex) and its
 * state (GuildStateStore) ask it before every write, so two shards never write one server's tables,
 * whatever event or command led there: a refusal is a bug (or a shard started with the wrong
 * count), reported as an internal error, never as something the user did.
 */
import type { Logger } from "pino";
import { describeShard, ownsGuild, type ShardIdentity, shardOfGuild } from "./ownership.ts";

/** A write for a server another shard owns: internal (users never cause it), so it is logged as a failure. */
export class GuildNotOwnedError extends Error {
  override readonly name = "GuildNotOwnedError";
  readonly code = "guild_not_owned";

  constructor(
    readonly guildId: string,
    readonly shard: ShardIdentity,
    what: string,
  ) {
    super(
      `refused to ${what} for server ${guildId}: it belongs to shard ${shardOfGuild(guildId, shard.count)}, ` +
        `and this process is ${describeShard(shard)}`,
    );
  }
}

export class GuildWriteGuard {
  /** The guard of a bot without shards: it owns every server and says nothing. */
  static readonly unsharded = new GuildWriteGuard(null);

  /** Servers this process has written, so the log names each once. */
  private readonly written = new Set<string>();

  constructor(
    readonly shard: ShardIdentity | null,
    private readonly logger?: Pick<Logger, "info">,
  ) {}

  /** The error that refuses a write to the server (`what`: "store images", …), or null when this shard owns it. */
  refusal(guildId: string, what: string): GuildNotOwnedError | null {
    if (this.shard === null) return null;
    if (!ownsGuild(guildId, this.shard)) return new GuildNotOwnedError(guildId, this.shard, what);
    // The per-shard record of who writes which server: one line per server and process.
    if (!this.written.has(guildId)) {
      this.written.add(guildId);
      this.logger?.info({ guildId }, `this shard writes server ${guildId}`);
    }
    return null;
  }

  /** Throws the refusal, if any. */
  assert(guildId: string, what: string): void {
    const refused = this.refusal(guildId, what);
    if (refused) throw refused;
  }
}
