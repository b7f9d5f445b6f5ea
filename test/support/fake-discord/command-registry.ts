import { type APIApplicationCommand, ApplicationCommandType, type RESTPostAPIApplicationCommandsJSONBody } from "discord-api-types/v10";
import { discordErrors } from "./errors.ts";
import type { SnowflakeGenerator } from "./snowflake.ts";

/**
 * Commands the bot registered with PUT (bulk overwrite), global or per guild. Like Discord, a
 * command that keeps its name and type keeps its id, so invoking a command after a re-deploy
 * still resolves; `invokeCommand` uses these ids.
 */
export class CommandRegistry {
  readonly #global: APIApplicationCommand[] = [];
  readonly #byGuild = new Map<string, APIApplicationCommand[]>();

  constructor(
    private readonly ids: SnowflakeGenerator,
    private readonly applicationId: string,
  ) {}

  list(guildId?: string): APIApplicationCommand[] {
    return guildId === undefined ? [...this.#global] : [...(this.#byGuild.get(guildId) ?? [])];
  }

  overwrite(bodies: unknown, guildId?: string): APIApplicationCommand[] {
    if (!Array.isArray(bodies)) throw discordErrors.invalidFormBody("expected an array of commands");
    const previous = this.list(guildId);
    const commands = (bodies as RESTPostAPIApplicationCommandsJSONBody[]).map((body) => this.#toCommand(body, previous, guildId));
    if (guildId === undefined) this.#global.splice(0, this.#global.length, ...commands);
    else this.#byGuild.set(guildId, commands);
    return commands;
  }

  /** Guild commands shadow global ones of the same name and type, as in the Discord client. */
  find(name: string, type: ApplicationCommandType, guildId?: string): APIApplicationCommand | undefined {
    const matches = (command: APIApplicationCommand) => command.name === name && command.type === type;
    return (guildId === undefined ? undefined : this.#byGuild.get(guildId)?.find(matches)) ?? this.#global.find(matches);
  }

  #toCommand(
    body: RESTPostAPIApplicationCommandsJSONBody,
    previous: APIApplicationCommand[],
    guildId: string | undefined,
  ): APIApplicationCommand {
    if (typeof body?.name !== "string") throw discordErrors.invalidFormBody("name: This field is required");
    const type = body.type ?? ApplicationCommandType.ChatInput;
    const kept = previous.find((command) => command.name === body.name && command.type === type);
    return {
      ...(body as Omit<APIApplicationCommand, "id">),
      id: kept?.id ?? this.ids.next(),
      type,
      application_id: this.applicationId,
      ...(guildId !== undefined ? { guild_id: guildId } : {}),
      description: "description" in body && body.description ? body.description : "",
      default_member_permissions: body.default_member_permissions ?? null,
      nsfw: body.nsfw ?? false,
      version: this.ids.next(),
    };
  }
}
