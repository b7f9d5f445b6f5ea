/**
 * Configuration from the environment, validated once at start. Every problem is reported at once,
 * one line per setting, with what is expected.
 */
import path from "node:path";
import { z } from "zod";
import { isLookalikeError } from "../retrieval/errors.ts";
import { MODELS } from "../retrieval/models.ts";
import { type QueueSettings, queueSettings } from "../retrieval/queue/settings.ts";
import {
  databaseUri,
  indexCacheSetting,
  objectStoreProblems,
  parseDatabaseLocation,
  type SettingProblem,
} from "../retrieval/store/database.ts";
import { DISCORD_EXTERNAL_PROXY_HOSTS } from "./attachment-fetcher.ts";
import type { ShardIdentity } from "./sharding/ownership.ts";
import { type ShardingPlan, shardingSetting } from "./sharding/settings.ts";

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

/** `host[:port]` spelled the way `URL.host` spells it (lower case), or null when it is not one. */
function normaliseHost(entry: string): string | null {
  try {
    const url = new URL(`https://${entry}`);
    const bare = url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password && !entry.includes("/");
    return bare ? url.host : null;
  } catch {
    return null;
  }
}

/** A comma-separated list of `host[:port]`; unset or empty means `defaults`. */
function hostList(defaults: readonly string[]) {
  return optionalString.transform((value, ctx): readonly string[] => {
    if (value === undefined) return defaults;
    const entries = value
      .split(",")
      .map((entry) => entry.trim())
      .filter(Boolean);
    const hosts = entries.map(normaliseHost);
    const bad = entries.filter((_, index) => hosts[index] === null);
    if (bad.length === 0) return hosts as string[];
    ctx.addIssue({ code: "custom", message: `comma-separated host[:port] names; not a host: ${bad.join(", ")}` });
    return z.NEVER;
  });
}

/**
 * `LOOKALIKE_DB_URI`: the database folder (default `lancedb/` in the data folder) or an object-store
 * URI, with the object store's own variables (`AWS_ENDPOINT`, …) checked against it. Outside the
 * schema because those checks span several variables and must be reported with every other problem.
 */
function databaseSetting(env: NodeJS.ProcessEnv): { uri: string | undefined; problems: SettingProblem[] } {
  const value = env.LOOKALIKE_DB_URI?.trim();
  if (!value) return { uri: undefined, problems: [] };
  try {
    const location = parseDatabaseLocation(value);
    return { uri: databaseUri(location), problems: objectStoreProblems(location, env) };
  } catch (error) {
    if (!isLookalikeError(error, "db_location_invalid")) throw error;
    return { uri: undefined, problems: [{ variable: "LOOKALIKE_DB_URI", message: error.message }] };
  }
}

const schema = z.object({
  DISCORD_TOKEN: optionalString,
  /** REST base URL (Discord's own by default); a proxy or a local fake Discord in tests. */
  DISCORD_API_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** For `npm run deploy-commands`: the application to register commands for. */
  DISCORD_APPLICATION_ID: optionalString.pipe(
    z
      .string()
      .regex(/^\d{1,20}$/, "a Discord application ID (digits)")
      .optional(),
  ),
  /** For `npm run deploy-commands`: register in one server (instant, for development) instead of globally. */
  DISCORD_DEV_GUILD_ID: optionalString.pipe(
    z
      .string()
      .regex(/^\d{1,20}$/, "a Discord server ID (digits)")
      .optional(),
  ),
  /** Hosts of Discord's external-media proxy, which serves the images of unfurled links; a self-hosted proxy or a test server. */
  DISCORD_EXTERNAL_MEDIA_HOSTS: hostList(DISCORD_EXTERNAL_PROXY_HOSTS),
  LOOKALIKE_DATA_DIR: z.string().default("data"),
  LOOKALIKE_MODELS_DIR: optionalString,
  LOOKALIKE_MODEL: z.enum(Object.keys(MODELS) as [keyof typeof MODELS]).default("mobilenetv2-int8"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Largest attachment the bot downloads, in MiB. */
  LOOKALIKE_MAX_IMAGE_MB: z.coerce.number().positive().max(100).default(25),
  /** Images waiting for the model before new live work is refused (backpressure). */
  LOOKALIKE_QUEUE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(1000),
  /** Serve Prometheus metrics and /healthz on this port (off when unset). */
  LOOKALIKE_METRICS_PORT: optionalString.pipe(
    z.string().regex(/^\d+$/, "a port number").transform(Number).pipe(z.number().int().min(1).max(65_535)).optional(),
  ),
});

export interface BotConfig {
  readonly token: string | undefined;
  readonly apiUrl: string | undefined;
  readonly applicationId: string | undefined;
  readonly devGuildId: string | undefined;
  /** Hosts (with port) whose `/external/` paths may be downloaded: images of unfurled links. */
  readonly externalMediaHosts: readonly string[];
  readonly dataDir: string;
  readonly modelsDir: string;
  /** The database: an absolute folder path, or an object-store URI as given (`connectDatabase` takes either). */
  readonly db: string;
  readonly guildStateDir: string;
  readonly modelId: keyof typeof MODELS;
  readonly logLevel: string;
  readonly maxImageBytes: number;
  readonly queueLimit: number;
  readonly metricsPort: number | undefined;
  /** `LOOKALIKE_REDIS_URL` (background images go to embedding workers) and `npm run worker`'s settings. */
  readonly queue: QueueSettings;
  /** `LOOKALIKE_SHARDS` / `_SHARD_COUNT` / `_SHARD_IDS`: the shards this machine starts; null: one process, no shards. */
  readonly sharding: ShardingPlan | null;
  /** This process's shard, when the shard manager started it; null otherwise. */
  readonly shard: ShardIdentity | null;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): BotConfig {
  const parsed = schema.safeParse(env);
  const database = databaseSetting(env);
  const queue = queueSettings(env);
  const sharding = shardingSetting(env);
  // Read by connectDatabase itself (the CLI and the worker connect too); checked here with the rest.
  const indexCache = indexCacheSetting(env);
  const lines = [
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`)),
    ...database.problems.map(({ variable, message }) => `  ${variable}: ${message}`),
    ...queue.problems.map(({ variable, message }) => `  ${variable}: ${message}`),
    ...sharding.problems.map(({ variable, message }) => `  ${variable}: ${message}`),
    ...indexCache.problems.map(({ variable, message }) => `  ${variable}: ${message}`),
  ];
  if (!parsed.success || lines.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}\nSee README.md, "Settings".`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.LOOKALIKE_DATA_DIR);
  return {
    token: e.DISCORD_TOKEN,
    apiUrl: e.DISCORD_API_URL,
    applicationId: e.DISCORD_APPLICATION_ID,
    devGuildId: e.DISCORD_DEV_GUILD_ID,
    externalMediaHosts: e.DISCORD_EXTERNAL_MEDIA_HOSTS,
    dataDir,
    modelsDir: path.resolve(e.LOOKALIKE_MODELS_DIR ?? path.join(dataDir, "models")),
    db: database.uri ?? path.join(dataDir, "lancedb"),
    guildStateDir: path.join(dataDir, "guilds"),
    modelId: e.LOOKALIKE_MODEL,
    logLevel: e.LOG_LEVEL,
    maxImageBytes: Math.round(e.LOOKALIKE_MAX_IMAGE_MB * 1024 * 1024),
    queueLimit: e.LOOKALIKE_QUEUE_LIMIT,
    metricsPort: e.LOOKALIKE_METRICS_PORT,
    queue: queue.settings,
    sharding: sharding.plan,
    shard: sharding.shard,
  };
}

/** For entry points: the configuration, or null after printing what is wrong to stderr. */
export function loadConfigOrReport(env: NodeJS.ProcessEnv = process.env): BotConfig | null {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return null;
  }
}
