// Workers do not inherit the parent's module hooks, so a worker that runs TypeScript registers tsx
// itself before importing its real entry (passing `--import tsx` in execArgv fails on Node 20).

import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
