/** Parses and validates the CLI's arguments into typed options. */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { parsePooling } from "../retrieval/descriptor.ts";
import { isLookalikeError } from "../retrieval/errors.ts";
import type { PoolingName } from "../retrieval/pooling.ts";
import { databaseUri, parseDatabaseLocation } from "../retrieval/store/database.ts";
import { readPathList } from "./files.ts";
import { UsageError } from "./usage.ts";

export const COMMANDS = ["index", "search", "check", "info", "drop"] as const;
export type Command = (typeof COMMANDS)[number];

export interface CliOptions {
  readonly command: Command;
  /** The database: an absolute folder path, or an object-store URI as given. */
  readonly db: string;
  readonly collection: string;
  readonly paths: string[];
  readonly k: number;
  readonly json: boolean;
  readonly force: boolean;
  readonly modelsDir: string | undefined;
  readonly model: string | undefined;
  readonly pooling: PoolingName | undefined;
  readonly threads: number | undefined;
  readonly download: boolean;
}

export type ParsedArgs = { help: true } | ({ help: false } & CliOptions);

function positiveInteger(value: string | undefined, flag: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} must be a whole number from 1 to ${max}, got "${value}".`);
  return n;
}

function databaseLocation(value: string): string {
  try {
    return databaseUri(parseDatabaseLocation(value));
  } catch (error) {
    if (isLookalikeError(error, "db_location_invalid")) throw new UsageError(`--db: ${error.message}`);
    throw error;
  }
}

const CLI_OPTIONS = {
  db: { type: "string" },
  collection: { type: "string", default: "default" },
  k: { type: "string" },
  json: { type: "boolean", default: false },
  force: { type: "boolean", default: false },
  from: { type: "string", multiple: true },
  "models-dir": { type: "string" },
  model: { type: "string" },
  pooling: { type: "string" },
  threads: { type: "string" },
  "no-download": { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies ParseArgsConfig["options"];

function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, options: CLI_OPTIONS });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export async function parseCli(argv: readonly string[]): Promise<ParsedArgs> {
  const parsed = parseFlags(argv);
  const { values, positionals } = parsed;
  const [command, ...paths] = positionals;
  if (values.help || command === "help" || command === undefined) return { help: true };
  if (!COMMANDS.includes(command as Command)) throw new UsageError(`Unknown command "${command}".`);
  if (!values.db) throw new UsageError(`${command} needs --db DIR|URI (the database folder, or an object-store URI).`);
  const db = databaseLocation(values.db);
  for (const list of values.from ?? [])
    paths.push(
      ...(await readPathList(list).catch((error: Error) => {
        throw new UsageError(`Cannot read --from ${list}: ${error.message}`);
      })),
    );
  const needsPaths = command === "index" || command === "search" || command === "check";
  if (needsPaths && paths.length === 0) throw new UsageError(`${command} needs at least one path (or --from FILE).`);
  let pooling: PoolingName | undefined;
  try {
    pooling = values.pooling === undefined ? undefined : parsePooling(values.pooling);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    help: false,
    command: command as Command,
    db,
    collection: values.collection!,
    paths,
    k: positiveInteger(values.k, "--k", 1000) ?? 10,
    json: values.json!,
    force: values.force!,
    modelsDir: values["models-dir"],
    model: values.model,
    pooling,
    threads: positiveInteger(values.threads, "--threads", 256),
    download: !values["no-download"],
  };
}
