/**
 * The sharding settings, checked with every other setting at start (config.ts):
 * - `LOOKALIKE_SHARDS` — `auto` or a count: this machine runs every shard of the bot;
 * - `LOOKALIKE_SHARD_COUNT` and `LOOKALIKE_SHARD_IDS` — the bot's total and this machine's slice
 *   (`0,1`, `4-7`, `0,2-3`), when several machines share the shards;
 * and which shard this process is, when discord.js's ShardingManager started it (it sets
 * `SHARDING_MANAGER`, `SHARDS` and `SHARD_COUNT` in the child's environment, which discord.js's
 * Client reads too). Outside config.ts's schema because the checks span several variables and
 * must be reported with every other problem.
 */
import { z } from "zod";
import type { SettingProblem } from "../../retrieval/store/database.ts";
import type { ShardIdentity } from "./ownership.ts";

export interface ShardingPlan {
  /** The bot's shards across every machine; `auto`: the count Discord recommends in `/gateway/bot`. */
  readonly totalShards: number | "auto";
  /** The shards this machine runs, ascending; null: all of them. */
  readonly shardIds: readonly number[] | null;
}

export interface ShardingSetting {
  /** What this machine's shard manager starts; null: no sharding (one process, as by default). */
  readonly plan: ShardingPlan | null;
  /** This process's shard, when a shard manager started it. */
  readonly shard: ShardIdentity | null;
  readonly problems: SettingProblem[];
}

const WHOLE = /^\d+$/;

/** Unset, empty or blank: not set. */
const optional = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value ? value : undefined));

const shardCount = optional.transform((value, ctx): number | undefined => {
  if (value === undefined) return undefined;
  if (WHOLE.test(value) && Number(value) >= 1 && Number.isSafeInteger(Number(value))) return Number(value);
  ctx.addIssue({ code: "custom", message: `a number of shards, at least 1; not ${JSON.stringify(value)}` });
  return z.NEVER;
});

const shardsSetting = optional.transform((value, ctx): number | "auto" | undefined => {
  if (value === undefined) return undefined;
  if (value.toLowerCase() === "auto") return "auto";
  if (WHOLE.test(value) && Number(value) >= 1 && Number.isSafeInteger(Number(value))) return Number(value);
  ctx.addIssue({ code: "custom", message: `"auto" or a number of shards, at least 1; not ${JSON.stringify(value)}` });
  return z.NEVER;
});

/** More ids than any bot runs on one machine: a range wider than this is a typo. */
const MAX_RANGE = 100_000;

/** `0,1`, `4-7`, `0,2-3`: ascending, without repeats. */
const shardIdList = optional.transform((value, ctx): number[] | undefined => {
  if (value === undefined) return undefined;
  const ids = new Set<number>();
  const bad: string[] = [];
  for (const entry of value.split(",").map((part) => part.trim())) {
    const range = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(entry);
    const from = Number(range?.[1]);
    const to = Number(range?.[2] ?? range?.[1]);
    if (!range || from > to || to - from > MAX_RANGE) bad.push(entry || "(empty)");
    else for (let id = from; id <= to; id++) ids.add(id);
  }
  if (bad.length === 0) return [...ids].sort((a, b) => a - b);
  ctx.addIssue({ code: "custom", message: `comma-separated shard ids or ranges (e.g. 0,1 or 4-7); not: ${bad.join(", ")}` });
  return z.NEVER;
});

const schema = z.object({
  LOOKALIKE_SHARDS: shardsSetting,
  LOOKALIKE_SHARD_COUNT: shardCount,
  LOOKALIKE_SHARD_IDS: shardIdList,
  /** Set by discord.js's ShardingManager in the processes it starts. */
  SHARDING_MANAGER: optional,
  SHARDS: optional,
  SHARD_COUNT: optional,
});

type Parsed = z.infer<typeof schema>;

export function shardingSetting(env: NodeJS.ProcessEnv): ShardingSetting {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({ variable: issue.path.join("."), message: issue.message }));
    return { plan: null, shard: null, problems };
  }
  const plan = planOf(parsed.data);
  const shard = shardOfProcess(parsed.data);
  return { plan: plan.plan, shard: shard.shard, problems: [...plan.problems, ...shard.problems] };
}

function planOf(e: Parsed): { plan: ShardingPlan | null; problems: SettingProblem[] } {
  const { LOOKALIKE_SHARDS: shards, LOOKALIKE_SHARD_COUNT: count, LOOKALIKE_SHARD_IDS: ids } = e;
  const problems: SettingProblem[] = [];
  if (shards !== undefined && count !== undefined && shards !== count) {
    problems.push({
      variable: "LOOKALIKE_SHARD_COUNT",
      message: `${count} disagrees with LOOKALIKE_SHARDS=${shards}; set LOOKALIKE_SHARDS on one machine, or LOOKALIKE_SHARD_COUNT with LOOKALIKE_SHARD_IDS on several`,
    });
  }
  const total = count ?? shards;
  if (ids !== undefined) {
    if (typeof total !== "number") {
      problems.push({
        variable: "LOOKALIKE_SHARD_IDS",
        message: "needs LOOKALIKE_SHARD_COUNT, the bot's number of shards across every machine (not auto: every machine must agree on it)",
      });
    } else {
      const outside = ids.filter((id) => id >= total);
      if (outside.length > 0) {
        problems.push({
          variable: "LOOKALIKE_SHARD_IDS",
          message: `shard ${outside.slice(0, 5).join(", ")}${outside.length > 5 ? ", …" : ""} is outside the ${total} shards (ids run from 0 to ${total - 1})`,
        });
      }
    }
  }
  if (problems.length > 0 || total === undefined) return { plan: null, problems };
  return { plan: { totalShards: total, shardIds: ids ?? null }, problems };
}

/** The shard a ShardingManager started this process as (discord.js's own variables), or null. */
function shardOfProcess(e: Parsed): { shard: ShardIdentity | null; problems: SettingProblem[] } {
  if (e.SHARDING_MANAGER !== "true" || e.SHARDS === undefined) return { shard: null, problems: [] };
  const id = WHOLE.test(e.SHARDS) ? Number(e.SHARDS) : Number.NaN;
  const count = e.SHARD_COUNT !== undefined && WHOLE.test(e.SHARD_COUNT) ? Number(e.SHARD_COUNT) : Number.NaN;
  if (Number.isSafeInteger(id) && Number.isSafeInteger(count) && count >= 1 && id < count) return { shard: { id, count }, problems: [] };
  return {
    shard: null,
    problems: [
      {
        variable: "SHARDS",
        message: `set by discord.js's ShardingManager to one shard id below SHARD_COUNT; got SHARDS=${e.SHARDS} SHARD_COUNT=${e.SHARD_COUNT ?? "(unset)"}`,
      },
    ],
  };
}
