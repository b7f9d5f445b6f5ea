/**
 * What the image table alone costs in memory: a bare process (no bot, no model) opens one
 * collection of a LanceDB database and searches it the way the bot does (`CollectionTable.searchMany`,
 * shipped probes and refine), printing its resident memory as it goes. Against the bot's own RSS
 * with the same database (bot-rss.ts) it tells the index's share from the bot's.
 *
 *   node --import tsx bench/scale/table-memory.ts <lancedb folder> <collection> [searches] [vectors]
 *
 * Each search sends `vectors` query vectors at once (default 1; a /similar query sends its views and
 * regions, about 12, a repost check about 16) under the bot's visibility filter (every channel).
 * e.g. on the 1M-row database the scale section caches in $TMPDIR/lookalike-bench-scale, whose
 * collection is the server's id, 1190000000000000001. Read-only: it never writes to the database,
 * and refuses a collection the database does not have. Queries are stored vectors with a little noise (seeded).
 */
import { readFileSync } from "node:fs";
import { vectorSpace } from "../../src/retrieval/analyzer.ts";
import { ImageStore } from "../../src/retrieval/store/image-store.ts";
import { DEFAULT_INDEX_POLICY } from "../../src/retrieval/store/index-policy.ts";

const [folder, collection, searchesArg] = process.argv.slice(2);
if (!folder || !collection) {
  console.error("usage: node --import tsx bench/scale/table-memory.ts <lancedb folder> <collection> [searches]");
  process.exit(2);
}
const searches = Number(searchesArg ?? 60);
const vectorsPerSearch = Number(process.argv[5] ?? 1);

function memory(): string {
  const status = readFileSync("/proc/self/status", "utf8");
  const mib = (field: string) => Math.round(Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? Number.NaN) / 1024);
  return `RSS ${mib("VmRSS")} MiB (anonymous ${mib("RssAnon")}, file-backed ${mib("RssFile")}), peak ${mib("VmHWM")} MiB`;
}

console.log(`start: ${memory()}`);
// The shipped model's space: the collection must have been built with it (as the bot requires).
const store = await ImageStore.open(folder, vectorSpace({}), DEFAULT_INDEX_POLICY);
// Opening a collection creates it when missing: a mistyped name would write to the database.
const collections = await store.collections();
if (!collections.includes(collection)) {
  console.error(`no collection ${collection} in ${folder} (it has: ${collections.join(", ") || "none"}); a server's collection is its id`);
  process.exit(2);
}
const table = await store.collection(collection);
console.log(`opened ${collection}: ${memory()}`);
const seeds = await table.sampleVectors(searches * vectorsPerSearch);
const filter = { visibleChannelIds: [...(await table.countByChannel()).keys()] };
let state = 7;
const noise = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.05;
const times: number[] = [];
for (let i = 0; i < searches; i++) {
  const vectors = Array.from({ length: vectorsPerSearch }, (_, j) =>
    seeds[(i * vectorsPerSearch + j) % seeds.length]!.map((v) => v + noise()),
  );
  const started = performance.now();
  await table.searchMany(vectors, { k: 10, filter });
  times.push(performance.now() - started);
  if ((i + 1) % 10 === 0) {
    const last = times.slice(-10).sort((a, b) => a - b);
    console.log(`${i + 1} searches: ${memory()}; last 10 median ${last[5]!.toFixed(1)} ms`);
  }
}
store.close();
