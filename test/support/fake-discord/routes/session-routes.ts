import { noContent, ok, type Router } from "../router.ts";
import type { FakeServices } from "../services.ts";

/** Gateway discovery and "who am I" routes. */
export function registerSessionRoutes(router: Router, services: FakeServices): void {
  const { state } = services;

  router.on("GET", "/gateway/bot", () =>
    ok({
      url: services.gatewayUrl(),
      shards: services.sessionStart.shards,
      session_start_limit: {
        total: 1000,
        remaining: 999,
        reset_after: 86_400_000,
        max_concurrency: services.sessionStart.maxConcurrency,
      },
    }),
  );
  router.on("GET", "/gateway", () => ok({ url: services.gatewayUrl() }), { auth: false });

  // Registered before /users/:userId so `@me` is not taken for an id.
  router.on("GET", "/users/@me", () => ok(state.botUser));
  router.on("GET", "/users/:userId", ({ param }) => ok(state.requireUser(param("userId"))));

  router.on("GET", "/applications/@me", () =>
    ok({
      id: state.applicationId,
      name: state.botUser.username,
      icon: null,
      description: "",
      bot_public: true,
      bot_require_code_grant: false,
      bot: state.botUser,
      verify_key: "0".repeat(64),
      flags: 0,
      team: null,
      owner: services.defaultUser,
      summary: "",
    }),
  );

  router.on("DELETE", "/users/@me/guilds/:guildId", async ({ param }) => {
    const guild = state.removeGuild(param("guildId"));
    await services.events.guildDeleted(guild.id);
    return noContent();
  });
}
