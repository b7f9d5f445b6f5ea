/**
 * An S3-compatible object store for the tests: s3rver (a fake S3 on node:http, files in a temp
 * directory) on 127.0.0.1 at a free port, in this process, with one bucket. LanceDB reaches it
 * through the standard variables its object store reads (`AWS_ENDPOINT`, …), as in production.
 *
 * s3rver differs from S3 in two ways that matter here:
 * - A listing with a delimiter leaves out prefixes that hold only deeper prefixes (a LanceDB table
 *   `t.lance/` holds only `_versions/`, `data/`, …), so `tableNames()` would return []. The store's
 *   `listObjects` is patched below to group keys by the delimiter as S3 does.
 * - It ignores conditional PUT (`If-None-Match: *`), with which LanceDB commits on real S3, and
 *   writes objects in place: two writers on one table would silently lose commits and readers could
 *   see half-written manifests. Both are patched below (`patchConditionalPuts`, `patchAtomicPuts`).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { KeyedLock } from "../../src/bot/keyed-lock.ts";
import { tempDir } from "./temp.ts";

interface S3Listing {
  objects: { key: string }[];
  commonPrefixes: string[];
  isTruncated: boolean;
}
interface ListOptions {
  delimiter?: string;
  prefix?: string;
  startAfter?: string;
  maxKeys?: number;
}
interface StoredObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}
/** The part of a Koa context the conditional-PUT middleware reads and answers through. */
interface RequestContext {
  method: string;
  path: string;
  get(header: string): string;
  status: number;
  type: string;
  body: unknown;
}
interface S3rverInstance {
  store: {
    listObjects(bucket: string, options: ListOptions): Promise<S3Listing>;
    putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
    putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
    getResourcePath(bucket: string, key: string, kind: "object"): string;
  };
  /** Koa's middleware, composed when the server starts listening. */
  middleware: ((ctx: RequestContext, next: () => Promise<void>) => Promise<void>)[];
  /** Set by `run()`. */
  httpServer?: Server;
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

// s3rver is CommonJS without types.
const S3rver = createRequire(import.meta.url)("s3rver") as S3rverConstructor;

/** s3rver's fixed credentials (it checks request signatures against them). */
const CREDENTIALS = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };

export interface FakeS3 {
  readonly bucket: string;
  readonly endpoint: string;
  /** Where s3rver keeps the objects: `<directory>/<bucket>/<key>` (with s3rver's own file suffixes). */
  readonly directory: string;
  /** The variables that point LanceDB (in this process, or a child given them) at this server. */
  readonly env: Readonly<Record<string, string>>;
  /** A fresh, empty database location in the bucket: `s3://bucket/<name>-<n>`. */
  freshUri(name?: string): string;
  /** Stops the server and restores the environment `useFakeS3` changed. */
  stop(): Promise<void>;
}

/**
 * s3rver writes an object in place (it truncates the file, then streams into it) and answers a PUT
 * of a buffer before the file is written, so a reader could see a partial object (seen: LanceDB
 * failing on a short manifest). The patched PUT writes a side file that listings skip (they only
 * take `._S3rver_object` files) and renames it into place before answering: readers see the old
 * object or the whole new one, as on S3.
 */
function patchAtomicPuts(server: S3rverInstance): void {
  const store = server.store;
  let written = 0;
  store.putObject = async (object) => {
    const content = Buffer.isBuffer(object.content) ? object.content : await buffer(object.content);
    const file = store.getResourcePath(object.bucket, object.key, "object");
    const partial = `${file}.partial-${++written}`;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(partial, content);
    await rename(partial, file);
    const md5 = createHash("md5").update(content).digest("hex");
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size: content.length, md5 };
  };
}

/**
 * S3 refuses a PUT with `If-None-Match: *` when the key exists (412), and LanceDB commits a
 * version that way (its manifest key is the version number): two writers racing for one version,
 * one wins and the other retries on top of it. s3rver ignores the header, so both would "win" and
 * one commit would silently overwrite the other. The patch answers 412 as S3 does, checking and
 * writing one key at a time.
 */
function patchConditionalPuts(server: S3rverInstance): void {
  const keys = new KeyedLock();
  server.middleware.unshift(async (ctx, next) => {
    if (ctx.method !== "PUT" || ctx.get("if-none-match") !== "*") return next();
    // Path-style addressing, as LanceDB uses with a custom endpoint: /<bucket>/<key>.
    const [, bucket = "", ...key] = ctx.path.split("/").map(decodeURIComponent);
    const file = server.store.getResourcePath(bucket, key.join("/"), "object");
    await keys.run(file, async () => {
      if (existsSync(file)) {
        ctx.status = 412;
        ctx.type = "application/xml";
        ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>`;
        return;
      }
      await next();
    });
  });
}

/** Groups keys by the delimiter the way S3 does (every prefix of a deeper key counts). */
function patchDelimiterListing(server: S3rverInstance): void {
  const store = server.store;
  const list = store.listObjects.bind(store);
  store.listObjects = async (bucket, options) => {
    const { delimiter, prefix = "" } = options;
    if (!delimiter) return list(bucket, options);
    const flat = await list(bucket, { ...options, delimiter: "", maxKeys: Number.POSITIVE_INFINITY });
    const objects: S3Listing["objects"] = [];
    const prefixes = new Set<string>();
    for (const object of flat.objects) {
      const at = object.key.indexOf(delimiter, prefix.length);
      if (at === -1) objects.push(object);
      else prefixes.add(object.key.slice(0, at + delimiter.length));
    }
    return { objects, commonPrefixes: [...prefixes].sort(), isTruncated: false };
  };
}

/**
 * Starts s3rver on 127.0.0.1 and points this process's environment at it (LanceDB's native code
 * reads the process environment when it connects); `stop()` puts the environment back.
 */
export async function useFakeS3(bucket = "lookalike-test"): Promise<FakeS3> {
  const directory = await tempDir("lookalike-s3-");
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  patchDelimiterListing(server);
  patchAtomicPuts(server);
  patchConditionalPuts(server);
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const env = { ...CREDENTIALS, AWS_REGION: "us-east-1", AWS_ENDPOINT: endpoint, AWS_ALLOW_HTTP: "true" };
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  let databases = 0;
  return {
    bucket,
    endpoint,
    directory,
    env,
    freshUri: (name = "db") => `s3://${bucket}/${name}-${++databases}`,
    async stop() {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      // LanceDB can leave a connection with a response it stopped reading; close() would wait
      // about 3 minutes for it (1 stop in 3 at 5,000 rows). Nothing is waiting for an answer by now.
      server.httpServer?.closeAllConnections();
      await server.close();
    },
  };
}

/** Where a test suite keeps its databases: each suite runs once per backend. */
export interface DatabaseBackend {
  readonly name: string;
  /** Call from the suite's `before`. */
  start(): Promise<void>;
  /** Call from the suite's `after`. */
  stop(): Promise<void>;
  /** A fresh, empty database location. */
  fresh(): Promise<string>;
}

export function localFolderBackend(): DatabaseBackend {
  return { name: "a local folder", start: async () => {}, stop: async () => {}, fresh: () => tempDir() };
}

export function fakeS3Backend(): DatabaseBackend {
  let s3: FakeS3 | undefined;
  return {
    name: "s3:// on s3rver",
    async start() {
      s3 = await useFakeS3();
    },
    async stop() {
      await s3?.stop();
      s3 = undefined;
    },
    async fresh() {
      if (!s3) throw new Error("the fake S3 backend was not started (call start() in the suite's before hook)");
      return s3.freshUri();
    },
  };
}

/** The backends every database suite runs against. */
export function databaseBackends(): DatabaseBackend[] {
  return [localFolderBackend(), fakeS3Backend()];
}
