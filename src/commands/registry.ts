/**
 * Every command and button: the registry the composition root (bot/app.ts) hands to the dispatcher,
 * and the bodies deploy-commands registers.
 */
import type { RESTPostAPIChatInputApplicationCommandsJSONBody, RESTPostAPIContextMenuApplicationCommandsJSONBody } from "discord.js";
import type { ButtonHandler, CommandRegistry, MessageMenuCommand, SlashCommand } from "../bot/command-services.ts";
import { findSimilar } from "./find-similar.ts";
import { indexHistory } from "./index-history.ts";
import { lookalike } from "./lookalike.ts";
import { notARepost } from "./not-a-repost.ts";
import { repost } from "./repost.ts";
import { similar } from "./similar.ts";

const SLASH: readonly SlashCommand[] = [similar, indexHistory, repost, lookalike];
const MESSAGE_MENUS: readonly MessageMenuCommand[] = [findSimilar];
const BUTTONS: readonly ButtonHandler[] = [notARepost];

export const commandRegistry: CommandRegistry = {
  slash: new Map(SLASH.map((command) => [command.data.name, command])),
  messageMenus: new Map(MESSAGE_MENUS.map((command) => [command.data.name, command])),
  buttons: new Map(BUTTONS.map((handler) => [handler.prefix, handler])),
};

/** The bodies `npm run deploy-commands` registers. */
export const commandDefinitions: (RESTPostAPIChatInputApplicationCommandsJSONBody | RESTPostAPIContextMenuApplicationCommandsJSONBody)[] = [
  ...SLASH.map((command) => command.data),
  ...MESSAGE_MENUS.map((command) => command.data),
];
