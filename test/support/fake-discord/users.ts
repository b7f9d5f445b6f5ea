import type { APIUser } from "discord-api-types/v10";
import type { SnowflakeGenerator } from "./snowflake.ts";

export interface UserSpec {
  id?: string;
  /** Default `user-<n>`. */
  username?: string;
  global_name?: string | null;
  bot?: boolean;
  avatar?: string | null;
}

let userCounter = 0;

export function buildUser(ids: SnowflakeGenerator, spec: UserSpec = {}): APIUser {
  userCounter += 1;
  return {
    id: spec.id ?? ids.next(),
    username: spec.username ?? `user-${userCounter}`,
    // Discord dropped discriminators for users ("0"); bots still carry a 4-digit one.
    discriminator: spec.bot ? "0001" : "0",
    global_name: spec.global_name ?? null,
    avatar: spec.avatar ?? null,
    ...(spec.bot ? { bot: true } : {}),
  };
}
