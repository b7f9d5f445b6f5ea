import type { APIRole } from "discord-api-types/v10";
import { type FakeDiscordState, isThread, type StoredChannel, type StoredGuild, type StoredMember } from "./state.ts";

/** What `fake.addGuild()` returns: live lookups by name, so tests need not track ids. */
export class GuildHandle {
  constructor(
    private readonly state: FakeDiscordState,
    readonly id: string,
  ) {}

  get guild(): StoredGuild {
    return this.state.requireGuild(this.id);
  }

  get name(): string {
    return this.guild.name;
  }

  /** Discord gives @everyone the guild's own id. */
  get everyoneRoleId(): string {
    return this.id;
  }

  /** The managed role the bot got when it joined (carries `botPermissions`). */
  get botRole(): APIRole {
    const role = [...this.guild.roles.values()].find((candidate) => candidate.managed);
    if (!role) throw new Error(`FakeDiscord: guild ${this.name} has no bot role`);
    return role;
  }

  /** Channels and threads of this guild. */
  get channels(): StoredChannel[] {
    return this.state.channelsOfGuild(this.id);
  }

  /** A channel (not a thread) by name or id. */
  channel(nameOrId: string): StoredChannel {
    return this.#find(nameOrId, false);
  }

  /** A thread (active or archived) by name or id. */
  thread(nameOrId: string): StoredChannel {
    return this.#find(nameOrId, true);
  }

  role(nameOrId: string): APIRole {
    const role = [...this.guild.roles.values()].find((candidate) => candidate.id === nameOrId || candidate.name === nameOrId);
    if (!role) throw new Error(`FakeDiscord: guild ${this.name} has no role "${nameOrId}"`);
    return role;
  }

  member(userId: string): StoredMember {
    return this.state.requireMember(this.id, userId);
  }

  #find(nameOrId: string, wantThread: boolean): StoredChannel {
    const found = this.channels.find(
      (channel) => isThread(channel) === wantThread && (channel.id === nameOrId || channel.name === nameOrId),
    );
    if (!found) {
      const kind = wantThread ? "thread" : "channel";
      const known = this.channels.filter((channel) => isThread(channel) === wantThread).map((channel) => channel.name);
      throw new Error(`FakeDiscord: guild ${this.name} has no ${kind} "${nameOrId}" (has: ${known.join(", ")})`);
    }
    return found;
  }
}
