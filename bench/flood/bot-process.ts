/**
 * The real bot as a child process (what `npm start` runs), so its memory and CPU are its own and
 * its event loop is not shared with the fake Discord and the measuring code.
 */

import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { botEnvironment, spawnBotProcess } from "../../test/support/bot-harness.ts";
import type { FakeDiscord } from "../../test/support/fake-discord/index.ts";
import { round } from "../speed/stats.ts";

export interface Memory {
  /** Resident set size now, MiB. */
  readonly rssMiB: number;
  /** The peak resident set size so far (VmHWM), MiB. */
  readonly peakMiB: number;
}

export interface StopResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** SIGTERM was not enough within the grace period. */
  readonly killed: boolean;
}

const STOP_GRACE_MS = 15_000;

export class BotProcess {
  private readonly child: ReturnType<typeof spawnBotProcess>;
  private readonly exit: Promise<unknown>;
  /** Rejects when the bot exits; handled once here so that an exit nobody races is not a crash. */
  private readonly death: Promise<never>;
  /** Last line of defence: a harness that dies mid-run must not leave the bot running. */
  private readonly killOnExit = () => this.child.kill("SIGKILL");

  private constructor(child: ReturnType<typeof spawnBotProcess>) {
    this.child = child;
    // A failed spawn ("error") ends the process too.
    this.exit = once(child, "exit").catch(() => undefined);
    this.death = this.exit.then(() => {
      throw new Error(`the bot exited (code ${child.exitCode}, signal ${child.signalCode}):\n${this.outputTail()}`);
    });
    this.death.catch(() => undefined);
    process.once("exit", this.killOnExit);
  }

  /** `settings`: environment variables on top of the shipped defaults (a baseline's setting). */
  static async start(fake: FakeDiscord, dataDir: string, settings: Readonly<Record<string, string>> = {}): Promise<BotProcess> {
    // Warnings and errors only: info lines for every indexed message would be bot work the
    // benchmark did not ask for (they are still collected, for diagnosing a failed run).
    const env = { ...(await botEnvironment(fake, dataDir)), LOG_LEVEL: "warn", ...settings };
    return new BotProcess(spawnBotProcess(env));
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error("the bot process did not start");
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The bot's log so far (the tail, for error messages). */
  outputTail(chars = 3000): string {
    return this.child.output().slice(-chars);
  }

  /** `work`, or a rejection as soon as the bot exits: a crashed bot must not leave a wait hanging. */
  whileRunning<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.death]);
  }

  async memory(): Promise<Memory | undefined> {
    const status = await readFile(`/proc/${this.pid}/status`, "utf8").catch(() => undefined);
    const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status ?? "")?.[1] ?? Number.NaN);
    if (!status) return undefined;
    return { rssMiB: round(kib("VmRSS") / 1024), peakMiB: round(kib("VmHWM") / 1024) };
  }

  /** User + system CPU seconds the bot has used so far (all threads, incl. onnxruntime's). */
  async cpuSeconds(): Promise<number> {
    const stat = await readFile(`/proc/${this.pid}/stat`, "utf8").catch(() => undefined);
    if (!stat) return Number.NaN;
    // Fields after the ")" that closes the command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const CLOCK_TICKS = 100; // USER_HZ, 100 on every Linux this runs on
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }

  /** SIGTERM (the bot's clean shutdown), then SIGKILL after a grace period. */
  async stop(): Promise<StopResult> {
    let killed = false;
    if (this.running) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => {
        killed = true;
        this.child.kill("SIGKILL");
      }, STOP_GRACE_MS);
      await this.exit;
      clearTimeout(timer);
    }
    process.off("exit", this.killOnExit);
    return { code: this.child.exitCode, signal: this.child.signalCode, killed };
  }
}
