/**
 * `npm run bench [-- --only flood|quality|queue|repost|renderings|scale|speed|check] [--quick]`: every measurement behind the shipped
 * defaults, on this machine. Each section's output is kept in bench/sections/<name>.json together
 * with the command, date and machine that produced it; bench/RESULTS.md and bench/results.json are
 * assembled from all sections, so `--only speed` refreshes the speed section and keeps the others.
 * With --quick everything goes to bench/.cache/ (or LOOKALIKE_BENCH_CACHE) instead, so a smoke run
 * never touches committed results.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { machineReport } from "./lib/machine.ts";
import { cacheDir, datasetsDir, modelsDir, sharedDir } from "./lib/paths.ts";
import type { BenchContext, BenchSection } from "./lib/section.ts";

const SECTIONS: Record<string, () => Promise<BenchSection>> = {
  flood: async () => (await import("./flood/section.ts")).floodSection,
  quality: async () => (await import("./quality/section.ts")).qualitySection,
  queue: async () => (await import("./queue/section.ts")).queueSection,
  repost: async () => (await import("./repost/section.ts")).repostSection,
  renderings: async () => (await import("./renderings/section.ts")).renderingsSection,
  scale: async () => (await import("./scale/section.ts")).scaleSection,
  speed: async () => (await import("./speed/section.ts")).speedSection,
  check: async () => (await import("./check/section.ts")).checkSection,
};

interface SectionRecord {
  readonly command: string;
  readonly date: string;
  readonly seconds: number;
  readonly machine: { markdown: string; json: Record<string, unknown> };
  readonly markdown: string;
  readonly json: unknown;
}

async function readSection(dir: string, name: string): Promise<SectionRecord | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, "sections", `${name}.json`), "utf8")) as SectionRecord;
  } catch {
    return undefined;
  }
}

async function assemble(outDir: string): Promise<void> {
  const markdown = [
    "# Lookalike benchmark results",
    "",
    "Each section below names the command that wrote it, when, and on which machine (`npm run bench` writes them all in one run).",
    "",
  ];
  const json: Record<string, SectionRecord> = {};
  for (const name of Object.keys(SECTIONS)) {
    const record = await readSection(outDir, name);
    if (!record) continue;
    json[name] = record;
    markdown.push(
      `<!-- section ${name} -->`,
      `_Written by \`${record.command}\` on ${record.date} (${record.seconds} s). ${record.machine.markdown.replaceAll("\n", " ")}_`,
      "",
      record.markdown,
      "",
    );
  }
  await writeFile(path.join(outDir, "RESULTS.md"), `${markdown.join("\n")}\n`);
  await writeFile(path.join(outDir, "results.json"), `${JSON.stringify(json, null, 2)}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: "string", multiple: true }, quick: { type: "boolean", default: false } },
  });
  const names = values.only ?? Object.keys(SECTIONS);
  for (const name of names)
    if (!SECTIONS[name]) throw new Error(`Unknown section "${name}"; choose from ${Object.keys(SECTIONS).join(", ")}.`);
  if (!existsSync(modelsDir) || !existsSync(datasetsDir)) {
    process.stderr.write(
      `shared/ not found at ${sharedDir}: the benchmark needs the shared models and datasets; clone next to shared/ or set LOOKALIKE_SHARED_DIR\n`,
    );
    process.exit(1);
  }
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const context: BenchContext = { quick: values.quick!, log: (line) => process.stderr.write(`${line}\n`) };
  const outDir = values.quick ? cacheDir() : "bench";
  await mkdir(path.join(outDir, "sections"), { recursive: true });
  for (const name of names) {
    context.log(`== ${name}`);
    const started = Date.now();
    const section = await SECTIONS[name]!();
    const machine = await machineReport();
    const result = await section.run(context);
    const record: SectionRecord = {
      command,
      date: new Date().toISOString(),
      seconds: Math.round((Date.now() - started) / 1000),
      machine,
      markdown: result.markdown,
      json: result.json,
    };
    // Saved as soon as it is done, so a later section's failure does not lose this one.
    await writeFile(path.join(outDir, "sections", `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
    await assemble(outDir);
  }
  context.log(`wrote ${path.join(outDir, "RESULTS.md")} and results.json`);
}

await main();
