/** Expands the CLI's path arguments into image files, keeping ids exactly as the user spelled them. */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";

const IMAGE_EXTENSIONS = new Set([".jpg", ".jpeg", ".jfif", ".png", ".webp", ".gif", ".avif", ".tif", ".tiff", ".bmp"]);

export function looksLikeImage(file: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

/**
 * Files given directly are kept whatever their name (a bad one gets its own error); folders are
 * walked recursively for image extensions, in sorted order. The id of a file found in a folder is
 * the folder as given, a "/", and the path below it.
 */
export async function expandPaths(inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (info?.isDirectory()) files.push(...(await walk(input)));
    else files.push(input);
  }
  return files;
}

async function walk(folder: string): Promise<string[]> {
  const prefix = folder.endsWith("/") ? folder : `${folder}/`;
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && looksLikeImage(entry.name))
    .map((entry) => prefix + path.relative(folder, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort();
}

/** Newline-separated paths from a file, or from stdin for "-". Blank lines are ignored. */
export async function readPathList(source: string): Promise<string[]> {
  const text = source === "-" ? await readStdin() : await readFile(source, "utf8");
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
