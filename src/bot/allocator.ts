/**
 * glibc's malloc tuning for the bot (`npm start`). glibc serves blocks of 128 KiB and more with
 * mmap, handing them back to the system when freed, but raises that threshold each time such a
 * block is freed, up to 32 MiB: after a few searches and model runs, the model's activation buffers
 * and LanceDB's index partitions come from the heap, and freed heap memory mostly stays resident.
 * Fixing the threshold at its initial 128 KiB keeps large blocks returnable. Measured with the bot
 * on the 1M-row scale database (README, "Memory with a large server"): peak RSS 789 → 664 MiB, at
 * the end 736 → 570 MiB. It costs CPU (fresh pages for every large buffer): the model's analysis
 * took 32.6 → 37.8 ms of CPU per image (`npm run bench -- --only queue`, in-process, without and
 * with it), so the CLI and `npm run worker`, whose job is throughput, run without it.
 *
 * glibc reads `GLIBC_TUNABLES` when the process starts, so the npm script sets it (package.json;
 * an operator's own value wins) and test/allocator.test.ts keeps it in step with this constant.
 * Other C libraries ignore the variable.
 */
export const ALLOCATOR_TUNABLES = "glibc.malloc.mmap_threshold=131072";

/** The shell prefix `npm start`'s script begins with: the tuning unless the environment sets its own. */
export const ALLOCATOR_SCRIPT_PREFIX = `GLIBC_TUNABLES=\${GLIBC_TUNABLES:-${ALLOCATOR_TUNABLES}}`;
