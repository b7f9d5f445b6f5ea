/**
 * Configuration from the environment, validated once at start. Every problem is reported at once,
 * one line per setting, with what is expected.
 */
import path from "node:path";
import { z } from "zod";
import { MODELS } from "../retrieval/models.ts";

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

const schema = z.object({
  DISCORD_TOKEN: optionalString,
  /** REST base URL (Discord's own by default); a proxy or a local fake Discord in tests. */
  DISCORD_API_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** For `npm run deploy-commands`: the application to register commands for. */
  DISCORD_APPLICATION_ID: optionalString.pipe(z.string().regex(/^\d{1,20}$/, "a Discord application ID (digits)").optional()),
  /** For `npm run deploy-commands`: register in one server (instant, for development) instead of globally. */
  DISCORD_DEV_GUILD_ID: optionalString.pipe(z.string().regex(/^\d{1,20}$/, "a Discord server ID (digits)").optional()),
  LOOKALIKE_DATA_DIR: z.string().default("data"),
  LOOKALIKE_MODELS_DIR: optionalString,
  LOOKALIKE_MODEL: z.enum(Object.keys(MODELS) as [keyof typeof MODELS]).default("mobilenetv2-int8"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Largest attachment the bot downloads, in MiB. */
  LOOKALIKE_MAX_IMAGE_MB: z.coerce.number().positive().max(100).default(25),
  /** Images waiting for the model before new live work is refused (backpressure). */
  LOOKALIKE_QUEUE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(1000),
});

export interface BotConfig {
  readonly token: string | undefined;
  readonly apiUrl: string | undefined;
  readonly applicationId: string | undefined;
  readonly devGuildId: string | undefined;
  readonly dataDir: string;
  readonly modelsDir: string;
  readonly dbDir: string;
  readonly guildStateDir: string;
  readonly modelId: keyof typeof MODELS;
  readonly logLevel: string;
  readonly maxImageBytes: number;
  readonly queueLimit: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): BotConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}\nSee README.md, "Settings".`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.LOOKALIKE_DATA_DIR);
  return {
    token: e.DISCORD_TOKEN,
    apiUrl: e.DISCORD_API_URL,
    applicationId: e.DISCORD_APPLICATION_ID,
    devGuildId: e.DISCORD_DEV_GUILD_ID,
    dataDir,
    modelsDir: path.resolve(e.LOOKALIKE_MODELS_DIR ?? path.join(dataDir, "models")),
    dbDir: path.join(dataDir, "lancedb"),
    guildStateDir: path.join(dataDir, "guilds"),
    modelId: e.LOOKALIKE_MODEL,
    logLevel: e.LOG_LEVEL,
    maxImageBytes: Math.round(e.LOOKALIKE_MAX_IMAGE_MB * 1024 * 1024),
    queueLimit: e.LOOKALIKE_QUEUE_LIMIT,
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
