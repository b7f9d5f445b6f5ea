/**
 * Everything src/commands uses of the bot, and the only file there that it imports: the services
 * a handler is given (`CommandServices`), what a command is (`SlashCommand`, ...), and the shared
 * constants their definitions are built from. The dispatcher (events/interaction-create.ts) runs
 * commands through these shapes; the composition root (app.ts) builds the services from the bot's
 * and hands the command registry to the dispatcher, so the bot itself never imports a command.
 */
import type {
  Attachment,
  BaseInteraction,
  ButtonInteraction,
  ChatInputCommandInteraction,
  GuildBasedChannel,
  Message,
  MessageContextMenuCommandInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
  RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from "discord.js";
import type { Requirement } from "./command-permissions.ts";
import type { RepostSettings } from "./guild-state.ts";
import type { ImageRef } from "./message-images.ts";
import type { SimilarCommand } from "./metrics.ts";
import type { BackfillReport, BackfillStatus } from "./services/backfill.ts";
import type { ShardIdentity } from "./sharding/ownership.ts";
import type { SimilarQuery, SimilarReply } from "./similar-reply.ts";

export { defaultMemberPermissions, type PermissionName, type Requirement } from "./command-permissions.ts";
export { UserFacingError } from "./errors.ts";
export { REPOST_ACTIONS, type RepostAction, type RepostSettings } from "./guild-state.ts";
export type { ImageRef } from "./message-images.ts";
export { SENSITIVITIES, type Sensitivity } from "./sensitivity.ts";
export { INDEXED_CHANNEL_TYPES } from "./services/backfill/targets.ts";
export type { BackfillReport, BackfillStatus } from "./services/backfill.ts";
/** The "Not a repost" button's custom id: written by the repost alert, read by the button's handler. */
export { NOT_A_REPOST_PREFIX, parseNotARepostCustomId } from "./services/repost-alerts.ts";
export { describeShard, type ShardIdentity } from "./sharding/ownership.ts";
export type { SimilarReply } from "./similar-reply.ts";

// ---------------------------------------------------------------------------------------------
// What a command is

/**
 * Handlers run in servers whose guild may not be cached (a partial gateway, a REST proxy):
 * "raw" interactions carry the ids and the member's permissions but no Guild object.
 */
export type InGuild = "cached" | "raw";

export interface Handler<I> {
  /** Who may use it; the dispatcher refuses everyone else before `execute` runs. None: every member. */
  readonly requires?: Requirement<I>;
  /** Throws to refuse or fail: the dispatcher turns the error into the reply (errors.ts). */
  execute(interaction: I, services: CommandServices): Promise<void>;
}

export interface SlashCommand extends Handler<ChatInputCommandInteraction<InGuild>> {
  readonly data: RESTPostAPIChatInputApplicationCommandsJSONBody;
}

export interface MessageMenuCommand extends Handler<MessageContextMenuCommandInteraction<InGuild>> {
  readonly data: RESTPostAPIContextMenuApplicationCommandsJSONBody;
}

export interface ButtonHandler extends Handler<ButtonInteraction<InGuild>> {
  /** The custom id's prefix before the first ":". */
  readonly prefix: string;
}

/** Every command and button by name (buttons by prefix), for the dispatcher. */
export interface CommandRegistry {
  readonly slash: ReadonlyMap<string, SlashCommand>;
  readonly messageMenus: ReadonlyMap<string, MessageMenuCommand>;
  readonly buttons: ReadonlyMap<string, ButtonHandler>;
}

// ---------------------------------------------------------------------------------------------
// What a command may use

export interface CommandServices {
  /** `/similar` and "Find similar images". */
  readonly search: LookalikeSearch;
  /** `/index`. */
  readonly backfill: BackfillControl;
  /** `/repost settings`. */
  readonly repostSettings: RepostSettingsStore;
  /** The "Not a repost" button. */
  readonly notReposts: NotARepostMarks;
  /** `/lookalike forget-me | remember-me`. */
  readonly members: MemberChoices;
  /** `/lookalike stats`. */
  readonly stats: (guildId: string) => Promise<ServerStats>;
  /**
   * For an error a handler answers itself instead of throwing it (one of several images failed):
   * counts and logs it, and returns what to tell the user.
   */
  readonly reportError: (error: unknown, details: Readonly<Record<string, unknown>>) => string;
}

export type SimilarScope = SimilarQuery["scope"];

export interface LookalikeQuery {
  readonly count: number;
  readonly scope: SimilarScope;
  readonly authorId?: string | null;
  /** Messages whose images are left out (the message the context menu was used on). */
  readonly excludeMessageIds?: readonly string[];
  readonly title: string;
  /** The contact sheet's file name in the reply. */
  readonly fileName: string;
}

export interface LookalikeSearch {
  /** The images in a message: attachments, image embeds, forwarded images. */
  imagesIn(message: Message): ImageRef[];
  /** An uploaded attachment, as an image to look for. */
  fromAttachment(attachment: Attachment): ImageRef;
  /**
   * Downloads and analyses the image (ahead of indexing, mirrored too) and searches the server's
   * index as the asking member may see it: the embed and contact sheet to answer with.
   */
  lookalikes(interaction: BaseInteraction<InGuild>, image: ImageRef, query: LookalikeQuery): Promise<SimilarReply>;
  /** Starts the answer-time metric; call what it returns once the answer is sent. */
  timeAnswer(command: SimilarCommand): () => void;
}

export interface BackfillControl {
  /** The running backfill's progress, or what the last one left behind. */
  status(guildId: string): Promise<BackfillStatus>;
  /** Stops the running backfill; false if none runs. */
  cancel(guildId: string): boolean;
  /** Throws the refusal users read while a backfill runs in the server. */
  assertIdle(guildId: string): void;
  /** Whether the bot can read the channel's history (View Channel and Read Message History). */
  canRead(channel: GuildBasedChannel): boolean;
  /**
   * Starts indexing `channelIds` (each with its public threads), or the whole server for null; its
   * progress replaces the interaction's (deferred) reply as it goes. Returns the first report.
   */
  start(interaction: ChatInputCommandInteraction<"cached">, channelIds: string[] | null): BackfillReport;
  /** A report as the progress message shows it. */
  describe(report: BackfillReport): string;
}

export interface RepostSettingsStore {
  get(guildId: string): Promise<RepostSettings>;
  /** Applies `change` and saves it; the settings as saved. */
  update(guildId: string, change: (settings: RepostSettings) => void): Promise<RepostSettings>;
}

export interface NotARepostMarks {
  /** Remembers that the stored image is not a repost of the original (by content); false if the image is gone. */
  mark(guildId: string, imageId: string, originalId: string): Promise<boolean>;
}

export interface MemberChoices {
  /** Removes the member's images from the server's index and stops indexing them; how many were removed. */
  forget(guildId: string, userId: string): Promise<number>;
  /** Indexes the member's new images again. */
  remember(guildId: string, userId: string): Promise<void>;
}

export interface ServerStats {
  readonly images: number;
  readonly channels: number;
  readonly lastBackfill: { readonly startedAt: Date | null; readonly finishedAt: Date | null };
  readonly backlog: {
    /** Images waiting for or in indexing, and the limit past which live images wait for the catch-up. */
    readonly background: number;
    readonly limit: number;
    /** Searches waiting or running. */
    readonly interactive: number;
    readonly channelsCatchingUp: number;
  };
  readonly model: { readonly id: string; readonly descriptor: string };
  readonly repost: Pick<RepostSettings, "enabled" | "action" | "sensitivity">;
  /** The repost metric this server's images taught, or null until it has `whiteningMinRows` images. */
  readonly whitening: { readonly rows: number; readonly fittedAt: Date } | null;
  readonly whiteningMinRows: number;
  /** The shard that serves (and alone writes) this server; null when the bot runs without shards. */
  readonly shard: ShardIdentity | null;
}
