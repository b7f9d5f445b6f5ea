import { type APIInteraction, type APIMessage, type InteractionResponseType, MessageFlags } from "discord-api-types/v10";
import type { RecordedFile } from "./request-log.ts";
import { WaitableLog, type WaitOptions } from "./waitable-log.ts";

export interface InteractionReply {
  /** `callback`: POST /interactions/:id/:token/callback; the rest go through /webhooks/:app/:token. */
  kind: "callback" | "edit" | "followup" | "delete";
  /** For callbacks: 4 reply, 5 deferred reply, 6 deferred update, 7 update message, 9 modal... */
  callbackType?: InteractionResponseType;
  /** The message created, edited or deleted by this step (`@original` resolved to its id). */
  messageId?: string;
  /** The message after this step; absent for bare defers of an update and for deletes. */
  message?: APIMessage;
  /** What the bot sent: JSON body or parsed `payload_json`. */
  json: unknown;
  files: RecordedFile[];
  ephemeral: boolean;
  at: Date;
}

/** A reply that shows something to the user (not a "thinking…" defer, not a delete). */
export function carriesContent(reply: InteractionReply): boolean {
  const message = reply.message;
  if (!message || reply.kind === "delete") return false;
  if (((message.flags ?? 0) & MessageFlags.Loading) !== 0) return false;
  return message.content.length > 0 || message.embeds.length > 0 || message.attachments.length > 0 || (message.components?.length ?? 0) > 0;
}

/**
 * Everything the bot did with one interaction token, in order. Returned by
 * `fake.invokeCommand()` / `fake.invokeComponent()`; REST routes append to it.
 */
export class InteractionHandle {
  readonly #replies = new WaitableLog<InteractionReply>(describeReply);
  /** Current state of every message of this interaction (ephemeral ones live only here). */
  readonly #messages = new Map<string, APIMessage>();
  #originalId: string | undefined;
  #acknowledged = false;

  constructor(
    readonly payload: APIInteraction,
    /** For component interactions: the message the component is on (its `@original`). */
    componentMessage?: APIMessage,
  ) {
    if (componentMessage) {
      this.#originalId = componentMessage.id;
      this.#messages.set(componentMessage.id, componentMessage);
    }
  }

  get id(): string {
    return this.payload.id;
  }

  get token(): string {
    return this.payload.token;
  }

  get acknowledged(): boolean {
    return this.#acknowledged;
  }

  get replies(): readonly InteractionReply[] {
    return this.#replies.entries;
  }

  /** The initial response (or the component's message), as it is now. */
  get original(): APIMessage | undefined {
    return this.#originalId === undefined ? undefined : this.#messages.get(this.#originalId);
  }

  get originalId(): string | undefined {
    return this.#originalId;
  }

  get followups(): APIMessage[] {
    return this.replies
      .filter((reply) => reply.kind === "followup" && reply.messageId !== undefined)
      .flatMap((reply) => this.#messages.get(reply.messageId as string) ?? []);
  }

  message(messageId: string): APIMessage | undefined {
    return this.#messages.get(messageId);
  }

  /** The latest reply that shows something (see `carriesContent`), if any yet. */
  final(): InteractionReply | undefined {
    return this.replies.findLast(carriesContent);
  }

  /** Resolves with the first reply (already received or future) matching; default: one that shows content. */
  waitForReply(predicate: (reply: InteractionReply) => boolean = carriesContent, options?: WaitOptions) {
    return this.#replies.waitFor(predicate, `a reply to interaction ${this.id}`, options);
  }

  waitForCallback(options?: WaitOptions): Promise<InteractionReply> {
    return this.#replies.waitFor((reply) => reply.kind === "callback", `the callback of interaction ${this.id}`, options);
  }

  // ---- used by the REST routes ----

  markAcknowledged(): void {
    this.#acknowledged = true;
  }

  setOriginal(message: APIMessage): void {
    this.#originalId = message.id;
    this.#messages.set(message.id, message);
  }

  rememberMessage(message: APIMessage): void {
    this.#messages.set(message.id, message);
  }

  forgetMessage(messageId: string): void {
    this.#messages.delete(messageId);
  }

  record(reply: InteractionReply): void {
    this.#replies.push(reply);
  }
}

function describeReply(reply: InteractionReply): string {
  const type = reply.callbackType === undefined ? "" : ` type ${reply.callbackType}`;
  const content = reply.message?.content ? ` "${reply.message.content.slice(0, 60)}"` : "";
  return `${reply.kind}${type}${content}${reply.files.length ? ` +${reply.files.length} file(s)` : ""}`;
}
