/** The shapes of command modules: a typed API definition plus its handler, one file each. */
import type {
  ButtonInteraction,
  ChatInputCommandInteraction,
  MessageContextMenuCommandInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
  RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from "discord.js";
import type { BotContext } from "../bot/context.ts";

export interface SlashCommand {
  readonly data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  execute(interaction: ChatInputCommandInteraction<"cached">, context: BotContext): Promise<void>;
}

export interface MessageMenuCommand {
  readonly data: RESTPostAPIContextMenuApplicationCommandsJSONBody;
  execute(interaction: MessageContextMenuCommandInteraction<"cached">, context: BotContext): Promise<void>;
}

export interface ButtonHandler {
  /** The custom id's prefix before the first ":". */
  readonly prefix: string;
  execute(interaction: ButtonInteraction<"cached">, context: BotContext): Promise<void>;
}
