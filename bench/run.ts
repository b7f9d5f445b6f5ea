/**
 * `npm run bench [-- --only quality|repost|speed] [--quick]`: every measurement behind the shipped
 * defaults, in one process on this machine. Writes bench/RESULTS.md and bench/results.json
 * (with --quick, to bench/.cache/ instead, so a quick run never overwrites the committed results).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { machineReport } from "./lib/machine.ts";
import type { BenchContext, BenchSection } from "./lib/section.ts";

const SECTIONS: Record<string, () => Promise<BenchSection>> = {
  quality: async () => (await import("./quality/section.ts")).qualitySection,
  repost: async () => (await import("./repost/section.ts")).repostSection,
  speed: async () => (await import("./speed/section.ts")).speedSection,
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: "string", multiple: true }, quick: { type: "boolean", default: false } },
  });
  const names = values.only ?? Object.keys(SECTIONS);
  for (const name of names) if (!SECTIONS[name]) throw new Error(`Unknown section "${name}"; choose from ${Object.keys(SECTIONS).join(", ")}.`);
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const context: BenchContext = { quick: values.quick!, log: (line) => process.stderr.write(`${line}\n`) };
  const machine = await machineReport();
  const markdown: string[] = [
    "# Lookalike benchmark results",
    "",
    `Written by \`${command}\` on ${new Date().toISOString()}.`,
    "",
    machine.markdown,
  ];
  const json: Record<string, unknown> = { command, date: new Date().toISOString(), machine: machine.json };
  for (const name of names) {
    context.log(`== ${name}`);
    const started = Date.now();
    const section = await SECTIONS[name]!();
    const result = await section.run(context);
    markdown.push(result.markdown, "", `_Section ${name} took ${((Date.now() - started) / 1000).toFixed(0)} s._`, "");
    json[name] = result.json;
  }
  const outDir = values.quick ? path.join("bench", ".cache") : "bench";
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, "RESULTS.md"), `${markdown.join("\n")}\n`);
  await writeFile(path.join(outDir, "results.json"), `${JSON.stringify(json, null, 2)}\n`);
  context.log(`wrote ${path.join(outDir, "RESULTS.md")} and results.json`);
}

await main();
