/**
 * Where the LanceDB database lives, and the one way to connect to it. A location is either a local
 * folder (resolved to an absolute path) or an object-store URI that LanceDB opens itself
 * (`s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix`), passed through untouched.
 * Credentials and the endpoint of an object store come from the variables LanceDB's object store
 * reads on its own (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`,
 * `AWS_ALLOW_HTTP`, …); this module only checks the ones whose mistakes LanceDB reports obscurely.
 */
import path from "node:path";
import * as lancedb from "@lancedb/lancedb";
import { LookalikeError } from "../errors.ts";

export const OBJECT_STORE_SCHEMES = ["s3", "gs", "az"] as const;
export type ObjectStoreScheme = (typeof OBJECT_STORE_SCHEMES)[number];

export type DatabaseLocation =
  | { readonly kind: "folder"; readonly path: string }
  | { readonly kind: "object-store"; readonly scheme: ObjectStoreScheme; readonly bucket: string; readonly uri: string };

/** A problem with a setting, named by the setting (an environment variable or the location itself). */
export interface SettingProblem {
  readonly variable: string;
  readonly message: string;
}

// A scheme of two or more characters: `C:\data` (a Windows drive) stays a folder.
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+):/;
const BUCKET_RULES: Record<ObjectStoreScheme, { pattern: RegExp; text: string }> = {
  s3: { pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, text: "S3 bucket names are 3–63 lower-case letters, digits, dots and hyphens" },
  gs: {
    pattern: /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/,
    text: "bucket names are 3–222 lower-case letters, digits, dots, hyphens and underscores",
  },
  az: { pattern: /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, text: "container names are 3–63 lower-case letters, digits and hyphens" },
};
const EXAMPLES = "s3://bucket/prefix, gs://bucket/prefix, az://container/prefix, or a folder path";

function invalid(message: string, value: string): never {
  throw new LookalikeError("db_location_invalid", message, { location: value });
}

/**
 * Tells an object-store URI from a folder, the one place that does: `s3://…`, `gs://…`, `az://…`
 * are URIs (checked, and kept exactly as given); anything without a scheme is a folder, resolved
 * against `cwd`. Anything else that starts like a URI (`ftp://x`, `s3:bucket`) is refused rather
 * than taken for a folder named `s3:`. Throws a `db_location_invalid` LookalikeError.
 */
export function parseDatabaseLocation(value: string, cwd: string = process.cwd()): DatabaseLocation {
  if (value.trim() === "") invalid("The database location is empty: give a folder or an object-store URI.", value);
  const scheme = SCHEME.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: "folder", path: path.resolve(cwd, value) };
  if (!value.slice(scheme.length + 1).startsWith("//")) {
    invalid(`"${value}" starts like a URI but is not one: use ${EXAMPLES} (./${value} for a folder of that name).`, value);
  }
  if (!(OBJECT_STORE_SCHEMES as readonly string[]).includes(scheme)) {
    invalid(`"${scheme}://" is not a supported database location: use ${EXAMPLES}.`, value);
  }
  const store = scheme as ObjectStoreScheme;
  // Said without echoing the value, which would print the secret.
  if (
    value
      .slice(scheme.length + 3)
      .split("/")[0]!
      .includes("@")
  ) {
    invalid(`Credentials do not belong in the ${store}:// URI: set them in the environment (AWS_ACCESS_KEY_ID, … for s3).`, `${store}://…`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return invalid(`"${value}" is not a valid URI: write ${store}://bucket/prefix.`, value);
  }
  if (url.search || url.hash) invalid(`"${value}" has a ?query or #fragment, which a database location cannot use.`, value);
  const bucket = url.host;
  if (bucket === "") invalid(`"${value}" names no ${store === "az" ? "container" : "bucket"}: write ${store}://bucket/prefix.`, value);
  const rule = BUCKET_RULES[store];
  if (!rule.pattern.test(bucket)) invalid(`"${bucket}" in "${value}" is not a valid name: ${rule.text}.`, value);
  return { kind: "object-store", scheme: store, bucket, uri: value };
}

/** The string LanceDB connects to: the absolute folder, or the URI as given. */
export function databaseUri(location: DatabaseLocation): string {
  return location.kind === "folder" ? location.path : location.uri;
}

// How LanceDB's object store reads a yes/no variable.
const TRUE_WORDS = ["true", "1", "yes", "y", "on"];
const FALSE_WORDS = ["false", "0", "no", "n", "off"];

/**
 * Object-store variables that would make LanceDB fail later and obscurely (an `http://` endpoint
 * without `AWS_ALLOW_HTTP` fails every request with "builder error"). Only the variables of the
 * location's own store are looked at; a folder has none.
 */
export function objectStoreProblems(location: DatabaseLocation, env: NodeJS.ProcessEnv = process.env): SettingProblem[] {
  if (location.kind !== "object-store" || location.scheme !== "s3") return [];
  const problems: SettingProblem[] = [];
  const allowHttp = env.AWS_ALLOW_HTTP?.trim().toLowerCase();
  if (allowHttp !== undefined && !TRUE_WORDS.includes(allowHttp) && !FALSE_WORDS.includes(allowHttp)) {
    problems.push({ variable: "AWS_ALLOW_HTTP", message: `true or false, got "${env.AWS_ALLOW_HTTP}"` });
  }
  for (const variable of ["AWS_ENDPOINT", "AWS_ENDPOINT_URL"]) {
    const value = env[variable];
    if (value === undefined) continue;
    let url: URL | undefined;
    try {
      url = new URL(value.trim());
    } catch {}
    if (url?.protocol !== "http:" && url?.protocol !== "https:") {
      problems.push({ variable, message: `the object store's http(s):// URL, got "${value}"` });
    } else if (url.protocol === "http:" && !TRUE_WORDS.includes(allowHttp ?? "")) {
      problems.push({
        variable,
        message: `${value} is plain http: set AWS_ALLOW_HTTP=true to allow that (e.g. a local test server), or use https`,
      });
    }
  }
  const hasKeyId = Boolean(env.AWS_ACCESS_KEY_ID);
  if (hasKeyId !== Boolean(env.AWS_SECRET_ACCESS_KEY)) {
    const [set, missing] = hasKeyId ? ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] : ["AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"];
    problems.push({ variable: missing, message: `not set, but ${set} is: set both, or neither (to use the machine's own credentials)` });
  }
  return problems;
}

/**
 * LanceDB's index cache, in MiB, per connection (`LOOKALIKE_INDEX_CACHE_MB`). LanceDB's own
 * default is 6 GB: it keeps every index partition a search has read, so the bot's memory grows with
 * its largest server's index. 256 MiB holds the 1M-row scale table's working set: the bot's peak
 * there was 537–557 MiB in six runs against 585–596 MiB with the default, searches ~1.2× slower.
 * Much smaller caches backfire: partitions are evicted and read again (32–128 MiB: peaks of
 * 565–654 MiB, searches 2–3× slower). README, "Memory with a large server", has the commands.
 */
export const DEFAULT_INDEX_CACHE_MB = 256;
const INDEX_CACHE_MB_RANGE = [16, 1_048_576] as const;

/** `LOOKALIKE_INDEX_CACHE_MB` as a number, or a problem naming the variable. */
export function indexCacheSetting(env: NodeJS.ProcessEnv = process.env): { mb: number; problems: SettingProblem[] } {
  const value = env.LOOKALIKE_INDEX_CACHE_MB?.trim();
  if (!value) return { mb: DEFAULT_INDEX_CACHE_MB, problems: [] };
  const mb = Number(value);
  const [min, max] = INDEX_CACHE_MB_RANGE;
  if (/^\d+$/.test(value) && mb >= min && mb <= max) return { mb, problems: [] };
  return {
    mb: DEFAULT_INDEX_CACHE_MB,
    problems: [
      {
        variable: "LOOKALIKE_INDEX_CACHE_MB",
        message: `a whole number of MiB from ${min} to ${max}, got "${env.LOOKALIKE_INDEX_CACHE_MB}"`,
      },
    ],
  };
}

export interface ConnectOptions {
  /** Seconds between checks for other processes' commits (0: on every read); unset: never (LanceDB's default). */
  readonly readConsistencyInterval?: number;
}

/**
 * Connects to the database at `location` (a folder, relative to the working directory, or an
 * object-store URI; see `parseDatabaseLocation`). Refuses, with a typed error naming the variable, a
 * location or object-store variables LanceDB could not use. Everything kept in the database (the
 * images' tables, their whitenings, and whatever else the application keeps there) connects here.
 */
export async function connectDatabase(location: string | DatabaseLocation, options: ConnectOptions = {}): Promise<lancedb.Connection> {
  const where = typeof location === "string" ? parseDatabaseLocation(location) : location;
  const cache = indexCacheSetting();
  const lines = (problems: SettingProblem[]) => problems.map(({ variable, message }) => `${variable}: ${message}`).join("\n");
  if (cache.problems.length > 0) throw new LookalikeError("db_config_invalid", lines(cache.problems));
  const problems = objectStoreProblems(where);
  if (problems.length > 0) {
    throw new LookalikeError("object_store_config_invalid", lines(problems), {
      location: databaseUri(where),
    });
  }
  // While this variable is unset, Lance 0.31 logs a warning to stderr on every vector-index
  // statistics call (`Table.indexStats`) that centroids will be left out of those statistics by
  // default in a future release. Opting in to that default now keeps the logs quiet. The native
  // library reads it from the process environment, so it is set before the first connection; an
  // operator's own value is kept.
  process.env.LANCE_INCLUDE_VECTOR_CENTROIDS ??= "false";
  // A session of its own per connection, not one per process: a session also keeps the object
  // stores it opened, by bucket, and reused one for a later connection to the same bucket at another
  // endpoint (the test suite's s3rver on a new port: connection refused). The bot's images are one
  // connection (ImageStore); its settings' tables, another, hold no vector index.
  const connection = { session: new lancedb.Session(BigInt(cache.mb) * 1024n * 1024n) };
  return lancedb.connect(
    databaseUri(where),
    options.readConsistencyInterval === undefined
      ? connection
      : { ...connection, readConsistencyInterval: options.readConsistencyInterval },
  );
}
