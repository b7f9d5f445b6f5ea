/**
 * Option choices built from one constant, read back typed: `choicesOf(REPOST_ACTIONS, labels)` in a
 * definition, `getChoice(interaction, "action", REPOST_ACTIONS)` in its handler. And one handler
 * per subcommand.
 */
import type { ApplicationCommandOptionType, ChatInputCommandInteraction } from "discord.js";
import { type CommandServices, type InGuild, UserFacingError } from "../bot/command-services.ts";

/** The choices of a string option: each of `values`, in order, with its label. */
export function choicesOf<T extends string>(values: readonly T[], labels: Readonly<Record<T, string>>): { name: string; value: T }[] {
  return values.map((value) => ({ name: labels[value], value }));
}

/** A string option's value as one of the `values` its choices were built from; null when not given. */
export function getChoice<T extends string>(
  interaction: ChatInputCommandInteraction<InGuild>,
  name: string,
  values: readonly T[],
): T | null {
  const given = interaction.options.getString(name);
  if (given === null) return null;
  const value = values.find((candidate) => candidate === given);
  // Discord only sends listed choices; an outdated registration could send an old one.
  if (value === undefined) throw new UserFacingError(`\`${given}\` is not a choice for \`${name}\` any more.`);
  return value;
}

export type SubcommandHandler = (interaction: ChatInputCommandInteraction<InGuild>, services: CommandServices) => Promise<void>;

/** The names of a definition's subcommands. */
export type SubcommandName<D extends { readonly options?: readonly unknown[] }> = Extract<
  NonNullable<D["options"]>[number],
  { readonly type: ApplicationCommandOptionType.Subcommand; readonly name: string }
>["name"];

/** One `execute` that runs the handler of the subcommand used. */
export function bySubcommand<N extends string>(handlers: Readonly<Record<N, SubcommandHandler>>): SubcommandHandler {
  const byName = new Map<string, SubcommandHandler>(Object.entries<SubcommandHandler>(handlers));
  return async (interaction, services) => {
    const name = interaction.options.getSubcommand(true);
    const handler = byName.get(name);
    if (!handler) throw new Error(`/${interaction.commandName} has no handler for the subcommand "${name}"`);
    await handler(interaction, services);
  };
}
