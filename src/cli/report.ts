/** Turns per-item failures into one warning line or one JSON error line; never a crash. */
import { LookalikeError } from "../retrieval/errors.ts";

export function errorPayload(error: unknown): { code: string; message: string } {
  if (error instanceof LookalikeError) return { code: error.code, message: error.message };
  return { code: "internal", message: error instanceof Error ? error.message : String(error) };
}

export function round(score: number): number {
  return Math.round(score * 1e6) / 1e6;
}

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const processOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
