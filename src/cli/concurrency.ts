/**
 * Runs `work` over `items` with at most `limit` in flight and hands results to `emit` in input order,
 * so output stays deterministic while decoding and inference overlap.
 */
export async function mapOrdered<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
  emit: (result: R, item: T, index: number) => void | Promise<void>,
): Promise<void> {
  const results = new Map<number, R>();
  let nextToStart = 0;
  let nextToEmit = 0;
  let emitting = Promise.resolve();

  const flush = () => {
    emitting = emitting.then(async () => {
      while (results.has(nextToEmit)) {
        const result = results.get(nextToEmit)!;
        results.delete(nextToEmit);
        await emit(result, items[nextToEmit]!, nextToEmit);
        nextToEmit++;
      }
    });
    return emitting;
  };

  const worker = async () => {
    while (nextToStart < items.length) {
      const index = nextToStart++;
      results.set(index, await work(items[index]!, index));
      await flush();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  await flush();
}
