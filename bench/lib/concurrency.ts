import pLimit from "p-limit";

/** Runs `work` over `items` with at most `limit` in flight (p-limit, as the bot); resolves when all are done. */
export async function mapLimit<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  const gate = pLimit(Math.max(1, limit));
  await Promise.all(items.map((item, index) => gate(() => work(item, index))));
}
