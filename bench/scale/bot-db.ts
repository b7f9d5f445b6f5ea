/**
 * A bot's database holding one server with N generated images, as a server that size would have
 * it in steady state: its table in the shipped model's vector space (the bot refuses any other),
 * the shipped ANN index and filter indexes built by `CollectionTable.maintain()`, and its whitening
 * fitted by the engine's own upkeep (`LookalikeEngine.maintain`).
 *
 * 1M rows of 1280-d vectors are ~5 GB and minutes to generate and index, so each database is built
 * once into a temp folder (never the repository) and reused while everything it was made from is
 * unchanged: the key hashes the row count, the generator's seed and centres, the product's table
 * schema, index and whitening policies, and the LanceDB version. A run gets a clone (`cloneDatabase`)
 * so what the bot writes never changes the cached copy.
 */
import { createHash } from "node:crypto";
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { LookalikeEngine } from "../../src/retrieval/engine.ts";
import { ImageStore } from "../../src/retrieval/store/image-store.ts";
import { DEFAULT_INDEX_POLICY, SCALAR_INDEXES } from "../../src/retrieval/store/index-policy.ts";
import { imageSchema } from "../../src/retrieval/store/schema.ts";
import { DEFAULT_WHITENING_POLICY } from "../../src/retrieval/whitening/maintainer.ts";
import { populate } from "../speed/populate.ts";
import { round } from "../speed/stats.ts";
import { NearDuplicateGenerator } from "../speed/synthetic.ts";
import { maintainShipped } from "./stores.ts";
import type { ScaleVectors } from "./vectors.ts";

/** The server (guild) whose table the database holds; the fake Discord is given the same id. */
export const SCALE_GUILD_ID = "1190000000000000001";
const ROWS_SEED = 23;
/** Bump when the way the database is built changes in a way the key does not see. */
const BUILD_VERSION = 1;

const cacheRoot = () => path.resolve(process.env.LOOKALIKE_BENCH_SCALE_DB || path.join(os.tmpdir(), "lookalike-bench-scale"));

export interface BotDatabase {
  /** The cached database's folder (LanceDB), to clone from. */
  readonly lancedbDir: string;
  readonly rows: number;
  /** False when it was built by this run. */
  readonly reused: boolean;
  readonly build: { readonly populateSeconds: number; readonly indexSeconds: number; readonly whiteningSeconds: number };
}

interface ReadyFile {
  readonly key: string;
  /** Hash of what the centres were made from: quick and full runs (other centres) keep one database each. */
  readonly centres?: string;
  readonly rows: number;
  readonly build: BotDatabase["build"];
  readonly builtAt: string;
}

async function lancedbVersion(): Promise<string> {
  const manifest = path.join(process.cwd(), "node_modules", "@lancedb", "lancedb", "package.json");
  return (JSON.parse(await readFile(manifest, "utf8")) as { version: string }).version;
}

async function keyOf(rows: number, vectors: ScaleVectors): Promise<string> {
  const schema = imageSchema(vectors.space).fields.map((field) => `${field.name}:${field.type}:${field.nullable}`);
  const inputs = {
    BUILD_VERSION,
    rows,
    guild: SCALE_GUILD_ID,
    seed: ROWS_SEED,
    centres: vectors.source,
    schema,
    index: DEFAULT_INDEX_POLICY,
    scalarIndexes: SCALAR_INDEXES,
    whitening: DEFAULT_WHITENING_POLICY,
    lancedb: await lancedbVersion(),
  };
  return hash(JSON.stringify(inputs));
}

const hash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);

/**
 * Removes what a new build of `rows` rows from these centres replaces (they are gigabytes): builds
 * that never finished, and databases of that size from the same centres but other inputs (an older
 * schema, policy or LanceDB). A database from other centres (the quick run's) is kept.
 */
async function evictOutdated(root: string, rows: number, centres: string): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const name of await readdir(root)) {
    if (!name.startsWith(`${rows}-rows-`)) continue;
    const ready = await readFile(path.join(root, name, "ready.json"), "utf8").then(
      (text) => JSON.parse(text) as ReadyFile,
      () => undefined,
    );
    if (!ready || ready.centres === undefined || ready.centres === centres)
      await rm(path.join(root, name), { recursive: true, force: true });
  }
}

/** The cached database for `rows` rows, built first if missing or made from other inputs. */
export async function botDatabase(rows: number, vectors: ScaleVectors, log: (line: string) => void): Promise<BotDatabase> {
  const key = await keyOf(rows, vectors);
  const root = cacheRoot();
  const entry = path.join(root, `${rows}-rows-${key}`);
  const ready = await readFile(path.join(entry, "ready.json"), "utf8").then(
    (text) => JSON.parse(text) as ReadyFile,
    () => undefined,
  );
  if (ready?.key === key) {
    log(`scale: reusing the ${rows}-row database built ${ready.builtAt} (${entry})`);
    return { lancedbDir: path.join(entry, "lancedb"), rows, reused: true, build: ready.build };
  }
  const centres = hash(vectors.source);
  await evictOutdated(root, rows, centres);
  const partial = `${entry}.partial`;
  const lancedbDir = path.join(partial, "lancedb");
  log(`scale: building a ${rows}-row server database in ${partial} (kept for later runs)`);

  const store = await ImageStore.open(lancedbDir, vectors.space, DEFAULT_INDEX_POLICY);
  (await store.collection(SCALE_GUILD_ID)).close();
  store.close();
  const generator = new NearDuplicateGenerator(vectors.centres, ROWS_SEED);
  let logged = 0;
  const populated = await populate(lancedbDir, SCALE_GUILD_ID, generator, rows, {
    onChunk: (first, _vectors, count) => {
      if (first + count - logged >= 250_000 || first + count === rows) {
        logged = first + count;
        log(`scale:   ${logged} rows written`);
      }
    },
  });
  log("scale:   building the shipped index (CollectionTable.maintain)");
  const index = await maintainShipped(lancedbDir, vectors.space, SCALE_GUILD_ID);
  if (index.outcome !== "indexed") throw new Error(`maintain() at ${rows} rows did "${index.outcome}", expected a new index`);
  log("scale:   fitting the server's whitening (LookalikeEngine.maintain)");
  const whitening = await fitWhitening(lancedbDir);

  const build = { populateSeconds: round(populated.seconds, 1), indexSeconds: round(index.seconds, 1), whiteningSeconds: whitening };
  await writeFile(
    path.join(partial, "ready.json"),
    `${JSON.stringify({ key, centres, rows, build, builtAt: new Date().toISOString() } satisfies ReadyFile, null, 2)}\n`,
  );
  await rename(partial, entry);
  return { lancedbDir: path.join(entry, "lancedb"), rows, reused: false, build };
}

/** The engine's own upkeep, as the bot runs it after writes; the index is already built, so this fits the whitening. */
async function fitWhitening(lancedbDir: string): Promise<number> {
  // No model is needed for upkeep: an analyzer that is never called stands in for it.
  const engine = await LookalikeEngine.open({
    db: lancedbDir,
    analyzer: { analyze: () => Promise.reject(new Error("not used")), close: async () => {} },
  });
  try {
    const started = performance.now();
    const outcome = await engine.maintain(SCALE_GUILD_ID);
    if (outcome.whitening !== "fitted") throw new Error(`the whitening was not fitted (${JSON.stringify(outcome)})`);
    return round((performance.now() - started) / 1000, 1);
  } finally {
    await engine.close();
  }
}

/**
 * Copies a LanceDB folder for one run: data and index files are hard links (Lance never rewrites
 * them: a write, compaction or new index adds files and a new manifest), everything else (manifests,
 * transactions, deletion files) is copied. A run's writes then land in the clone only, and the
 * clone of 5 GB takes a moment. Also says how large the data and index files are.
 */
export async function cloneDatabase(from: string, to: string): Promise<ClonedDatabase> {
  const cloned = { linked: 0, copied: 0, dataMiB: 0, indexMiB: 0 };
  for (const entry of await readdir(from, { recursive: true, withFileTypes: true })) {
    const source = path.join(entry.parentPath, entry.name);
    const relative = path.relative(from, source);
    const target = path.join(to, relative);
    if (entry.isDirectory()) {
      await mkdir(target, { recursive: true });
    } else if (entry.isFile()) {
      await mkdir(path.dirname(target), { recursive: true });
      const parts = relative.split(path.sep);
      const kind = parts.includes("_indices") ? "indexMiB" : parts.includes("data") ? "dataMiB" : undefined;
      if (kind) {
        await link(source, target);
        cloned.linked++;
        cloned[kind] += (await stat(source)).size / 2 ** 20;
      } else {
        await copyFile(source, target);
        cloned.copied++;
      }
    }
  }
  return { ...cloned, dataMiB: round(cloned.dataMiB), indexMiB: round(cloned.indexMiB) };
}

export interface ClonedDatabase {
  readonly linked: number;
  readonly copied: number;
  /** Sizes of the data files (rows) and of the index files (vector and filter indexes), MiB. */
  readonly dataMiB: number;
  readonly indexMiB: number;
}
