/** The machine and software a benchmark ran on, for the results header. */
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const PACKAGES = ["onnxruntime-node", "sharp", "@lancedb/lancedb", "apache-arrow"] as const;

export async function machineReport(): Promise<{ markdown: string; json: Record<string, unknown> }> {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const cores = os.availableParallelism();
  const memoryGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  const versions: Record<string, string> = { node: process.version };
  for (const name of PACKAGES) {
    // Read from node_modules directly: some of these packages do not export their package.json.
    const file = path.join(process.cwd(), "node_modules", name, "package.json");
    const manifest = JSON.parse(await readFile(file, "utf8")) as { version: string };
    versions[name] = manifest.version;
  }
  const markdown = [
    `Machine: ${cpu}, ${cores} cores, ${memoryGiB} GiB RAM, ${os.type()} ${os.release()}.`,
    `Software: ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}.`,
  ].join("\n");
  return { markdown, json: { cpu, cores, memoryGiB: Number(memoryGiB), os: `${os.type()} ${os.release()}`, versions } };
}
