/**
 * Who may run a command or press a button. Each declares a `requires` (command-services.ts); the
 * dispatcher checks it once, before any handler runs. A command's `default_member_permissions`
 * is built from the same declaration, but it is only Discord's default — server admins can grant
 * any command to anyone — so the check at run time is what holds.
 */
import { PermissionFlagsBits, type PermissionsBitField } from "discord.js";

/** A member permission by its discord.js name, e.g. "ManageMessages". */
export type PermissionName = keyof typeof PermissionFlagsBits;

export interface Requirement<I> {
  /** The permission a member needs. */
  readonly permission: PermissionName;
  /** What it lets them do, finishing "You need the … permission to …": e.g. "use `/index`". */
  readonly to: string;
  /** Someone who may without the permission: e.g. the person who posted the image an alert is about. */
  readonly orElse?: { readonly who: string; readonly is: (interaction: I) => boolean };
}

/** What Discord's permission screens call it, where that differs from the flag's name. */
const LABELS: Partial<Record<PermissionName, string>> = { ManageGuild: "Manage Server" };

export function permissionLabel(permission: PermissionName): string {
  return LABELS[permission] ?? permission.replace(/(?<=[a-z])(?=[A-Z])/g, " ");
}

/** `default_member_permissions` for a command definition: who sees it until an admin changes that. */
export function defaultMemberPermissions({ permission }: { readonly permission: PermissionName }): string {
  return String(PermissionFlagsBits[permission]);
}

/** What the check reads of an interaction in a server: the member's permissions in its channel. */
export interface MemberInteraction {
  readonly memberPermissions: Readonly<PermissionsBitField>;
}

/** Why `interaction`'s member may not go on, or null when they may (always, without a requirement). */
export function refusal<I extends MemberInteraction>(requirement: Requirement<I> | undefined, interaction: I): string | null {
  if (!requirement) return null;
  if (interaction.memberPermissions.has(PermissionFlagsBits[requirement.permission])) return null;
  const permission = permissionLabel(requirement.permission);
  if (!requirement.orElse) return `You need the ${permission} permission to ${requirement.to}.`;
  if (requirement.orElse.is(interaction)) return null;
  return `Only ${requirement.orElse.who} or a member with the ${permission} permission can ${requirement.to}.`;
}
