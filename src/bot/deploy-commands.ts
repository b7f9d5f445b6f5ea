/**
 * `npm run deploy-commands`: registers the slash and context-menu commands, in one server when
 * DISCORD_DEV_GUILD_ID is set (instant, for development) or globally (may take up to an hour).
 * An entry point like main.ts: nothing imports it.
 */
import { REST, Routes } from "discord.js";
import { commandDefinitions } from "../commands/registry.ts";
import { loadConfigOrReport } from "./config.ts";

async function deploy(): Promise<number> {
  const config = loadConfigOrReport();
  if (!config) return 2;
  if (!config.token || !config.applicationId) {
    process.stderr.write("Set DISCORD_TOKEN and DISCORD_APPLICATION_ID (and DISCORD_DEV_GUILD_ID for one test server).\n");
    return 2;
  }
  const rest = new REST(config.apiUrl ? { api: config.apiUrl } : {}).setToken(config.token);
  const route = config.devGuildId
    ? Routes.applicationGuildCommands(config.applicationId, config.devGuildId)
    : Routes.applicationCommands(config.applicationId);
  const registered = (await rest.put(route, { body: commandDefinitions })) as { name: string }[];
  const where = config.devGuildId ? `server ${config.devGuildId}` : "all servers (global; can take up to an hour to appear)";
  process.stdout.write(`Registered ${registered.length} commands in ${where}: ${registered.map((c) => c.name).join(", ")}\n`);
  return 0;
}

process.exitCode = await deploy();
