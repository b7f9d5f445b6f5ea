/** Structured JSON logs (pino) on stdout; `LOG_LEVEL` sets the level. */
import { type Logger, pino } from "pino";

export function createLogger(level: string): Logger {
  return pino({ level, base: { app: "lookalike" } });
}
