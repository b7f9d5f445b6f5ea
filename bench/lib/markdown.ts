/** Small Markdown helpers for the results tables. */

export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(String).join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}

/** 0.873 → "87.3 %"; NaN → "–". */
export const pct = (x: number, digits = 1): string => (Number.isFinite(x) ? `${(x * 100).toFixed(digits)} %` : "–");

export const fixed = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : "–");

/** A value relative to the shipped configuration's: "×1.23"; "–" when undefined. */
export const ratio = (x: number, shipped: number): string =>
  Number.isFinite(x) && Number.isFinite(shipped) && shipped !== 0 ? `×${(x / shipped).toFixed(2)}` : "–";

export const bold = (text: string, on: boolean): string => (on ? `**${text}**` : text);
