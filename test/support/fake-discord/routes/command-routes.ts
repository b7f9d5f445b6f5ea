import { DiscordApiError } from "../errors.ts";
import { ok, type Router } from "../router.ts";
import type { FakeServices } from "../services.ts";

/** Command registration (bulk overwrite) and listing, global and per guild. */
export function registerCommandRoutes(router: Router, services: FakeServices): void {
  const { commands, state } = services;
  const requireOwnApplication = (applicationId: string) => {
    if (applicationId !== state.applicationId) throw new DiscordApiError(404, 10002, "Unknown Application");
  };

  router.on("GET", "/applications/:applicationId/commands", ({ param }) => {
    requireOwnApplication(param("applicationId"));
    return ok(commands.list());
  });
  router.on("PUT", "/applications/:applicationId/commands", ({ param, json }) => {
    requireOwnApplication(param("applicationId"));
    return ok(commands.overwrite(json));
  });
  router.on("GET", "/applications/:applicationId/guilds/:guildId/commands", ({ param }) => {
    requireOwnApplication(param("applicationId"));
    return ok(commands.list(state.requireGuild(param("guildId")).id));
  });
  router.on("PUT", "/applications/:applicationId/guilds/:guildId/commands", ({ param, json }) => {
    requireOwnApplication(param("applicationId"));
    return ok(commands.overwrite(json, state.requireGuild(param("guildId")).id));
  });
}
