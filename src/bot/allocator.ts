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
 * `arena_max=2`: glibc gives threads that contend for the heap arenas of their own, up to 8 per
 * core, and memory freed in one arena serves only that arena; LanceDB's, the model's and libvips's
 * threads spread the bot's garbage over many. Two arenas, measured on this machine in pairs of runs
 * (the same commands each way, interleaved): the image flood (`npm run bench -- --only flood`, 300
 * images) peaked at 434 and 423 MiB against 478 and 472 MiB; the bot on the 1M-row scale database
 * (`measureBotMemory`, bench/scale/bot-rss.ts) 12–27 MiB lower in each of five comparisons (the last:
 * 589 against 605 and 613 MiB). Bot CPU for the flood's 300 images: 146 and 189 s against 162 and
 * 149 s, at loads of 3.4–5.1 from other work: no cost above that noise.
 *
 * glibc reads `GLIBC_TUNABLES` when the process starts, so the npm script sets it (package.json;
 * an operator's own value wins) and test/allocator.test.ts keeps it in step with this constant.
 * Other C libraries ignore the variable.
 */
export const ALLOCATOR_TUNABLES = "glibc.malloc.mmap_threshold=131072:glibc.malloc.arena_max=2";

/** The shell prefix `npm start`'s script begins with: the tuning unless the environment sets its own. */
export const ALLOCATOR_SCRIPT_PREFIX = `GLIBC_TUNABLES=\${GLIBC_TUNABLES:-${ALLOCATOR_TUNABLES}}`;
