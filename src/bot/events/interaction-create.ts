/**
 * Routes interactions to their command or button handler, from the registry the composition root
 * (app.ts) hands in. Each handler's `requires` is checked here, once, before it runs; and the one
 * path from a thrown error to the user's reply is here too: every handler just throws.
 */
import { type Interaction, MessageFlags, type RepliableInteraction } from "discord.js";
import { type MemberInteraction, refusal } from "../command-permissions.ts";
import type { CommandRegistry, CommandServices, Handler } from "../command-services.ts";
import { type ErrorSinks, reportToUser, UserFacingError } from "../errors.ts";

export interface DispatcherParts extends ErrorSinks {
  readonly registry: CommandRegistry;
  readonly services: CommandServices;
}

export function createDispatcher({ registry, services, ...sinks }: DispatcherParts): (interaction: Interaction) => Promise<void> {
  return async (interaction) => {
    if (!interaction.inGuild()) {
      if (interaction.isRepliable()) await interaction.reply({ content: "Lookalike works inside servers.", flags: MessageFlags.Ephemeral });
      return;
    }
    try {
      if (interaction.isChatInputCommand()) await run(registry.slash.get(interaction.commandName), interaction, services);
      else if (interaction.isMessageContextMenuCommand())
        await run(registry.messageMenus.get(interaction.commandName), interaction, services);
      else if (interaction.isButton()) await run(registry.buttons.get(interaction.customId.split(":")[0]!), interaction, services);
    } catch (error) {
      const text = reportToUser(error, sinks, "interaction", {
        guildId: interaction.guildId,
        user: interaction.user.id,
        interaction: describe(interaction),
      });
      if (interaction.isRepliable()) {
        await answer(interaction, `⚠️ ${text}`).catch((replyError: unknown) =>
          sinks.logger.warn({ err: replyError }, "could not send the error reply"),
        );
      }
    }
  };
}

async function run<I extends MemberInteraction>(handler: Handler<I> | undefined, interaction: I, services: CommandServices): Promise<void> {
  if (!handler) return;
  const refused = refusal(handler.requires, interaction);
  if (refused) throw new UserFacingError(refused);
  await handler.execute(interaction, services);
}

async function answer(interaction: RepliableInteraction, content: string): Promise<void> {
  if (interaction.deferred || interaction.replied) await interaction.editReply({ content, embeds: [], files: [], components: [] });
  else await interaction.reply({ content, flags: MessageFlags.Ephemeral });
}

function describe(interaction: Interaction): string {
  if (interaction.isCommand()) return `command ${interaction.commandName}`;
  if (interaction.isButton()) return `button ${interaction.customId}`;
  return `interaction type ${interaction.type}`;
}
