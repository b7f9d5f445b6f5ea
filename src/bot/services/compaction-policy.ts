/**
 * When a server's table is compacted. Every write commit leaves a fragment that each search then
 * opens, so a busy small server must not wait for thousands of rows (the ANN upkeep's trigger)
 * before its fragments are merged: compact after enough of them, or after a while with a few.
 */
export interface CompactionPolicy {
  /** Compact once this many writes (fragments) have piled up since the last compaction… */
  readonly maxFragments: number;
  /** …or once at least `minFragments` have waited this long. */
  readonly maxDelayMs: number;
  readonly minFragments: number;
}

export const DEFAULT_COMPACTION_POLICY: CompactionPolicy = { maxFragments: 32, maxDelayMs: 10 * 60_000, minFragments: 2 };

export interface CompactionState {
  readonly fragmentsSinceCompaction: number;
  /** When the first of those fragments was written (ms since epoch), or null for none. */
  readonly oldestFragmentAt: number | null;
}

export function compactionDue(state: CompactionState, now: number, policy: CompactionPolicy = DEFAULT_COMPACTION_POLICY): boolean {
  const { fragmentsSinceCompaction: fragments, oldestFragmentAt } = state;
  if (fragments >= policy.maxFragments) return true;
  return fragments >= policy.minFragments && oldestFragmentAt !== null && now - oldestFragmentAt >= policy.maxDelayMs;
}
