/**
 * Shows a backfill's progress to the moderator who started it: by editing the (deferred)
 * interaction reply while its token is valid, then — interaction tokens expire after 15 minutes —
 * by editing an ordinary message posted in the same channel.
 */
import type { ChatInputCommandInteraction, Message } from "discord.js";
import type { Logger } from "pino";
import { type BackfillReport, type ProgressSink, renderProgress } from "./progress.ts";

export interface InteractionSinkOptions {
  /** Discord's interaction token lifetime. */
  readonly tokenLifetimeMs?: number;
  /** Hand over this long before the token expires, so the reply can still point to the new message. */
  readonly handOverBeforeMs?: number;
}

const TOKEN_LIFETIME_MS = 15 * 60_000;
const HAND_OVER_BEFORE_MS = 60_000;

export class InteractionProgressSink implements ProgressSink {
  private fallback: Message | null = null;
  private handedOver = false;
  private readonly deadline: number;

  constructor(
    private readonly interaction: ChatInputCommandInteraction<"cached">,
    private readonly logger: Logger,
    options: InteractionSinkOptions = {},
  ) {
    const lifetime = options.tokenLifetimeMs ?? TOKEN_LIFETIME_MS;
    this.deadline = interaction.createdTimestamp + lifetime - (options.handOverBeforeMs ?? HAND_OVER_BEFORE_MS);
  }

  async update(report: BackfillReport): Promise<void> {
    const content = renderProgress(report);
    if (!this.handedOver && Date.now() < this.deadline) {
      await this.interaction.editReply({ content });
      return;
    }
    if (this.fallback) {
      await this.fallback.edit({ content });
      return;
    }
    if (this.handedOver) return; // posting the fallback failed once; the log has the rest
    this.handedOver = true;
    const channel = this.interaction.channel;
    if (!channel) return;
    try {
      this.fallback = await channel.send({ content });
    } catch (error) {
      this.logger.warn(
        { err: error, channelId: channel.id },
        "could not post the backfill progress message; progress goes to the log only",
      );
      return;
    }
    await this.interaction
      .editReply({ content: `Still indexing: progress continues in ${this.fallback.url}` })
      .catch((error: unknown) => this.logger.debug({ err: error }, "could not point the expiring reply to the progress message"));
  }
}
