/**
 * The Redis that carries the embedding queue: what a valid `LOOKALIKE_REDIS_URL` is, how it is
 * shown in logs (never with its password), and the connection options BullMQ gets from it. BullMQ
 * opens its own connections from these options (ioredis), one per Queue, Worker and QueueEvents,
 * because a blocking read (a worker waiting for jobs, QueueEvents waiting for results) holds its
 * connection.
 */
import type { ConnectionOptions } from "bullmq";
import { LookalikeError } from "../errors.ts";

const EXPECTED = "a redis:// or rediss:// URL: redis://[user:password@]host[:port][/db]";

function invalid(message: string): never {
  throw new LookalikeError("queue_config_invalid", message);
}

/**
 * Checks a Redis URL and returns it as given. Throws a `queue_config_invalid` LookalikeError whose
 * message never repeats the URL (it may hold a password).
 */
export function parseRedisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    invalid(`not a URL; expected ${EXPECTED}`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") invalid(`"${url.protocol}//" is not Redis; expected ${EXPECTED}`);
  if (!url.hostname) invalid(`no host; expected ${EXPECTED}`);
  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d{1,5}$/.test(db)) invalid(`the database must be a number (redis://host:6379/0), not "${db}"`);
  return value;
}

/** The URL with its password replaced, for logs and messages. */
export function redactRedisUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "(invalid Redis URL)";
  }
}

/** BullMQ's options for one connection to this Redis. */
export function redisConnection(url: string): ConnectionOptions {
  // BullMQ makes blocking connections wait for Redis forever (maxRetriesPerRequest: null) and lets
  // the others fail a command after ioredis's retries: a producer sees an outage as an error.
  return { url };
}
