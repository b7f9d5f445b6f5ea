/** A server-state store kept in memory, for units that only read and update one server's state. */
import type { GuildState, GuildStateStore } from "../../src/bot/guild-state.ts";

/** `live` as given (a server never watched by default); `get` and `update` work on that one object. */
export function memoryStateStore(live: { since: string | null; channels: Record<string, string> } = { since: null, channels: {} }) {
  const state = { live } as unknown as GuildState;
  const store = {
    get: async () => state,
    update: async (_: string, change: (current: GuildState) => void) => {
      change(state);
      return state;
    },
  } as unknown as GuildStateStore;
  return { state, store };
}
