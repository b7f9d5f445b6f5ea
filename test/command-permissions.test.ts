/**
 * Who may run what: every command and button of the registry, as declared by its `requires`,
 * against a member, a moderator, a server manager, an administrator and (for the button) the
 * poster. Then the dispatcher: a refused member never reaches the handler, and reads why.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Interaction, PermissionFlagsBits, PermissionsBitField } from "discord.js";
import pino from "pino";
import { permissionLabel, refusal } from "../src/bot/command-permissions.ts";
import type { CommandRegistry, CommandServices, Handler, SlashCommand } from "../src/bot/command-services.ts";
import { createDispatcher } from "../src/bot/events/interaction-create.ts";
import { notARepostCustomId, type RepostFinding } from "../src/bot/services/repost-alerts.ts";
import { commandDefinitions, commandRegistry } from "../src/commands/registry.ts";

const POSTER = "300000000000000001";
const SOMEONE = "300000000000000002";
const buttonId = notARepostCustomId({ imageId: "400000000000000001", original: { id: "400000000000000002" } } as RepostFinding, POSTER);

interface Actor {
  readonly userId: string;
  readonly permissions: bigint;
}

const ACTORS = {
  member: { userId: SOMEONE, permissions: PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages },
  moderator: { userId: SOMEONE, permissions: PermissionFlagsBits.ViewChannel | PermissionFlagsBits.ManageMessages },
  manager: { userId: SOMEONE, permissions: PermissionFlagsBits.ViewChannel | PermissionFlagsBits.ManageGuild },
  admin: { userId: SOMEONE, permissions: PermissionFlagsBits.Administrator },
  poster: { userId: POSTER, permissions: PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages },
} satisfies Record<string, Actor>;
type ActorName = keyof typeof ACTORS;

/** What a handler's requirement reads of an interaction. */
const asInteraction = (actor: Actor) => ({
  memberPermissions: new PermissionsBitField(actor.permissions).freeze(),
  user: { id: actor.userId },
  customId: buttonId,
});

function handler(kind: "slash" | "menu" | "button", name: string): Handler<never> {
  const found =
    kind === "slash"
      ? commandRegistry.slash.get(name)
      : kind === "menu"
        ? commandRegistry.messageMenus.get(name)
        : commandRegistry.buttons.get(name);
  assert.ok(found, `${kind} ${name} is registered`);
  return found;
}

const Y = true;
const N = false;
/** [kind, name] → may each actor use it? The poster only differs from a member on the button. */
const TABLE: [kind: "slash" | "menu" | "button", name: string, allowed: Record<ActorName, boolean>][] = [
  ["slash", "similar", { member: Y, moderator: Y, manager: Y, admin: Y, poster: Y }],
  ["slash", "lookalike", { member: Y, moderator: Y, manager: Y, admin: Y, poster: Y }],
  ["menu", "Find similar images", { member: Y, moderator: Y, manager: Y, admin: Y, poster: Y }],
  ["slash", "index", { member: N, moderator: Y, manager: N, admin: Y, poster: N }],
  ["slash", "repost", { member: N, moderator: N, manager: Y, admin: Y, poster: N }],
  ["button", "nr", { member: N, moderator: Y, manager: N, admin: Y, poster: Y }],
];

describe("command permissions", () => {
  for (const [kind, name, allowed] of TABLE) {
    for (const [actorName, may] of Object.entries(allowed)) {
      it(`${kind} ${name}: ${actorName} ${may ? "may" : "may not"}`, () => {
        const reason = refusal(handler(kind, name).requires, asInteraction(ACTORS[actorName as ActorName]) as never);
        if (may) assert.equal(reason, null);
        else assert.ok(reason, "refused with a reason");
      });
    }
  }

  it("every command and button is in the table", () => {
    const listed = new Set(TABLE.map(([kind, name]) => `${kind} ${name}`));
    const registered = [
      ...[...commandRegistry.slash.keys()].map((name) => `slash ${name}`),
      ...[...commandRegistry.messageMenus.keys()].map((name) => `menu ${name}`),
      ...[...commandRegistry.buttons.keys()].map((name) => `button ${name}`),
    ];
    assert.deepEqual(new Set(registered), listed);
  });

  it("says what is missing, in Discord's words", () => {
    const member = asInteraction(ACTORS.member) as never;
    assert.equal(refusal(handler("slash", "index").requires, member), "You need the Manage Messages permission to use `/index`.");
    assert.equal(refusal(handler("slash", "repost").requires, member), "You need the Manage Server permission to change repost settings.");
    assert.equal(
      refusal(handler("button", "nr").requires, member),
      "Only the person who posted the image or a member with the Manage Messages permission can say it is not a repost.",
    );
    assert.equal(permissionLabel("ManageMessages"), "Manage Messages");
    assert.equal(permissionLabel("ManageGuild"), "Manage Server");
  });

  it("a button whose id names no poster is only for moderators", () => {
    const stale = { ...asInteraction(ACTORS.poster), customId: "nr:broken" } as never;
    assert.ok(refusal(handler("button", "nr").requires, stale));
  });

  it("Discord's default_member_permissions comes from the same declaration", () => {
    for (const command of commandRegistry.slash.values()) {
      const expected = command.requires ? String(PermissionFlagsBits[command.requires.permission]) : undefined;
      assert.equal(command.data.default_member_permissions, expected, command.data.name);
    }
    for (const command of commandRegistry.messageMenus.values()) assert.equal(command.requires, undefined);
    assert.equal(commandDefinitions.length, commandRegistry.slash.size + commandRegistry.messageMenus.size);
  });
});

describe("the dispatcher checks `requires` before the handler runs", () => {
  const ran: string[] = [];
  const guarded: SlashCommand = {
    data: { name: "guarded", description: "test" },
    requires: { permission: "ManageMessages", to: "use `/guarded`" },
    async execute() {
      ran.push("guarded");
    },
  };
  const registry: CommandRegistry = { slash: new Map([["guarded", guarded]]), messageMenus: new Map(), buttons: new Map() };
  const errors: string[] = [];
  const dispatch = createDispatcher({
    registry,
    services: {} as CommandServices,
    logger: pino({ level: "silent" }),
    metrics: { error: (code: string) => void errors.push(code) },
  });

  /** The parts of a slash-command interaction the dispatcher touches. */
  function slash(actor: Actor) {
    const replies: { content: string; flags?: unknown }[] = [];
    const interaction = {
      ...asInteraction(actor),
      commandName: "guarded",
      guildId: "100000000000000001",
      deferred: false,
      replied: false,
      inGuild: () => true,
      isChatInputCommand: () => true,
      isCommand: () => true,
      isRepliable: () => true,
      reply: async (reply: { content: string; flags?: unknown }) => void replies.push(reply),
    };
    return { interaction: interaction as unknown as Interaction, replies };
  }

  it("refuses a member: an ephemeral reply saying why, the handler never called", async () => {
    const { interaction, replies } = slash(ACTORS.member);
    await dispatch(interaction);
    assert.deepEqual(ran, []);
    assert.equal(replies.length, 1);
    assert.equal(replies[0]!.content, "⚠️ You need the Manage Messages permission to use `/guarded`.");
    assert.ok(replies[0]!.flags, "ephemeral");
    assert.deepEqual(errors, ["refused"]);
  });

  it("lets a moderator through", async () => {
    const { interaction, replies } = slash(ACTORS.moderator);
    await dispatch(interaction);
    assert.deepEqual(ran, ["guarded"]);
    assert.deepEqual(replies, []);
  });
});
