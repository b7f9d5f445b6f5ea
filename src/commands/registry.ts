/** Every command and button, for the interaction router and the deploy script. */
import type {
  RESTPostAPIChatInputApplicationCommandsJSONBody,
  RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from "discord.js";
import { findSimilar } from "./find-similar.ts";
import { indexCommand } from "./index-command.ts";
import { lookalike } from "./lookalike.ts";
import { notARepost } from "./not-a-repost.ts";
import { repost } from "./repost.ts";
import { similar } from "./similar.ts";
import type { ButtonHandler, MessageMenuCommand, SlashCommand } from "./types.ts";

const SLASH: readonly SlashCommand[] = [similar, indexCommand, repost, lookalike];
const MESSAGE_MENUS: readonly MessageMenuCommand[] = [findSimilar];
const BUTTONS: readonly ButtonHandler[] = [notARepost];

export const slashCommands = new Map(SLASH.map((command) => [command.data.name, command]));
export const messageMenus = new Map(MESSAGE_MENUS.map((command) => [command.data.name, command]));
export const buttons = new Map(BUTTONS.map((handler) => [handler.prefix, handler]));

/** The bodies `npm run deploy-commands` registers. */
export const commandDefinitions: (RESTPostAPIChatInputApplicationCommandsJSONBody | RESTPostAPIContextMenuApplicationCommandsJSONBody)[] = [
  ...SLASH.map((command) => command.data),
  ...MESSAGE_MENUS.map((command) => command.data),
];
