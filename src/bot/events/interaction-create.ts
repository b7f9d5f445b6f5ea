/**
 * Routes interactions to their command or button handler. The one path from a thrown error to the
 * user's reply is here: every handler just throws.
 */
import { MessageFlags, type Interaction, type RepliableInteraction } from "discord.js";
import { buttons, messageMenus, slashCommands } from "../../commands/registry.ts";
import type { BotContext } from "../context.ts";
import { errorCode, userMessage } from "../errors.ts";

export async function onInteractionCreate(interaction: Interaction, context: BotContext): Promise<void> {
  if (!interaction.inGuild()) {
    if (interaction.isRepliable()) await interaction.reply({ content: "Lookalike works inside servers.", flags: MessageFlags.Ephemeral });
    return;
  }
  try {
    if (interaction.isChatInputCommand()) {
      const command = slashCommands.get(interaction.commandName);
      if (command) await command.execute(interaction, context);
    } else if (interaction.isMessageContextMenuCommand()) {
      const command = messageMenus.get(interaction.commandName);
      if (command) await command.execute(interaction, context);
    } else if (interaction.isButton()) {
      const handler = buttons.get(interaction.customId.split(":")[0]!);
      if (handler) await handler.execute(interaction, context);
    }
  } catch (error) {
    const { text, expected } = userMessage(error);
    context.metrics.error(errorCode(error));
    const log = { err: error, guildId: interaction.guildId, user: interaction.user.id, interaction: describe(interaction) };
    if (expected) context.logger.info(log, "interaction refused");
    else context.logger.error(log, "interaction failed");
    if (interaction.isRepliable()) await answer(interaction, `⚠️ ${text}`).catch((replyError: unknown) =>
      context.logger.warn({ err: replyError }, "could not send the error reply"),
    );
  }
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
