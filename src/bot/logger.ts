/** Structured JSON logs (pino) on stdout; `LOG_LEVEL` sets the level. */
import { pino, type Logger } from "pino";

export function createLogger(level: string): Logger {
  return pino({ level, base: { app: "lookalike" } });
}
