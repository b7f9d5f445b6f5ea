/** The shapes of command modules: a typed API definition plus its handler, one file each. */
import type {
  ButtonInteraction,
  ChatInputCommandInteraction,
  MessageContextMenuCommandInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
  RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from "discord.js";
import type { BotContext } from "../bot/context.ts";

/**
 * Handlers run in servers whose guild may not be cached (a partial gateway, a REST proxy):
 * "raw" interactions carry the ids and the member's permissions but no Guild object.
 */
export type InGuild = "cached" | "raw";

export interface SlashCommand {
  readonly data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  execute(interaction: ChatInputCommandInteraction<InGuild>, context: BotContext): Promise<void>;
}

export interface MessageMenuCommand {
  readonly data: RESTPostAPIContextMenuApplicationCommandsJSONBody;
  execute(interaction: MessageContextMenuCommandInteraction<InGuild>, context: BotContext): Promise<void>;
}

export interface ButtonHandler {
  /** The custom id's prefix before the first ":". */
  readonly prefix: string;
  execute(interaction: ButtonInteraction<InGuild>, context: BotContext): Promise<void>;
}
