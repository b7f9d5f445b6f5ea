/**
 * A progress bar on stderr: redrawn in place on a terminal, a plain line every few seconds
 * otherwise (logs and CI), so stdout stays machine-readable.
 */
export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;
  private readonly interactive: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.interactive = Boolean(stream.isTTY);
  }

  update(done: number, extra = ""): void {
    const now = Date.now();
    const interval = this.interactive ? 100 : 5_000;
    if (done < this.total && now - this.lastDraw < interval) return;
    this.lastDraw = now;
    const line = this.render(done, extra, now);
    if (this.interactive) this.stream.write(`\r${line}\x1b[K`);
    else this.stream.write(`${line}\n`);
  }

  finish(): void {
    if (this.interactive) this.stream.write("\n");
  }

  private render(done: number, extra: string, now: number): string {
    const width = 28;
    const ratio = this.total === 0 ? 1 : Math.min(1, done / this.total);
    const filled = Math.round(ratio * width);
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? (this.total - done) / rate : 0;
    const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
    const percent = `${(ratio * 100).toFixed(0)}%`;
    return `${this.label} ${bar} ${done}/${this.total} ${percent} ${rate.toFixed(1)}/s ETA ${eta.toFixed(0)}s${extra ? ` ${extra}` : ""}`;
  }
}
