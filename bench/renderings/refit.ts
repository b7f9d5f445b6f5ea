/**
 * `node --import tsx bench/renderings/refit.ts [--quick]`: fits the regional rules again from the
 * weighings the last renderings run saved (`weighingsFile`), at each sensitivity level's promised
 * false-repost rate and in both decision spaces, and prints each level's rules with what they find
 * on the fit and test splits. No engine run: seconds instead of the run's half hour. This is how
 * the levels in src/retrieval/thresholds.ts are chosen; the run itself reports the balanced level.
 */
import { readFile } from "node:fs/promises";
import type { DecisionSpace } from "../../src/retrieval/reposts.ts";
import { BUDGET, LEVELS, type Level } from "../repost/outcomes.ts";
import { weighingsFile } from "./evidence.ts";
import { KINDS } from "./kinds/catalogue.ts";
import { describeRules, fitRegionalRules, type Neighbours, type Outcome, outcome, type RegionalRules } from "./regional-fit.ts";
import { type SavedWeighing, weighedQuery } from "./regional-report.ts";

const share = (found: number, asked: number) => `${found}/${asked} (${((100 * found) / Math.max(1, asked)).toFixed(1)} %)`;
const summary = (o: Outcome) => `reposts ${share(o.found, o.asked)}, false ${share(o.falseReposts, o.negatives)}`;

/** Reposts found per group of kinds (mild, strong). */
const groups = (o: Outcome) =>
  (["mild", "strong"] as const)
    .map((group) => {
      const entries = KINDS.filter((k) => k.group === group).flatMap((k) => o.byKind.get(k.name) ?? []);
      const total = (key: "found" | "asked") => entries.reduce((sum, e) => sum + e[key], 0);
      return `${group} ${share(total("found"), total("asked"))}`;
    })
    .join(", ");

async function main(): Promise<void> {
  const file = weighingsFile(process.argv.includes("--quick"));
  const saved = JSON.parse(await readFile(file, "utf8")) as SavedWeighing[];
  const queries = saved.map(weighedQuery);
  for (const space of ["whitened", "raw"] as const satisfies readonly DecisionSpace[]) {
    const fit = queries.filter((q) => q.space === space && q.split === "fit");
    const test = queries.filter((q) => q.space === space && q.split === "test");
    // Balanced first, then the other two within it, so that the levels nest (a stricter level never
    // flags what a looser one would not): fitted level by level they need not.
    const fitLevel = (level: Level, neighbours?: Neighbours) => fitRegionalRules(fit, BUDGET[level].target, neighbours).rules;
    const balanced = fitLevel("balanced");
    const fitted: Record<Level, RegionalRules> = {
      strict: fitLevel("strict", { looser: balanced }),
      balanced,
      loose: fitLevel("loose", { stricter: balanced }),
    };
    for (const level of LEVELS) {
      // The rate each level promises (the bot's `/repost settings sensitivity`).
      const rate = BUDGET[level].target;
      const rules = fitted[level];
      const [onFit, onTest] = [outcome(fit, rules), outcome(test, rules)];
      const kinds = [...onTest.byKind].map(([kind, o]) => `${kind} ${((100 * o.found) / o.asked).toFixed(0)}`).join(", ");
      process.stdout.write(
        [
          `${space} ${level} (≤ ${rate * 100} %): ${describeRules(rules)}`,
          `  ${JSON.stringify(rules)}`,
          `  fit: ${summary(onFit)}; ${groups(onFit)}`,
          `  test: ${summary(onTest)}; ${groups(onTest)}`,
          `  test by kind (%): ${kinds}`,
          "",
        ].join("\n"),
      );
    }
  }
}

await main();
