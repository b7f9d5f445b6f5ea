/** Progress lines prefixed with the seconds since the section started, to see where time goes. */
export function timedLog(log: (line: string) => void): (line: string) => void {
  const started = Date.now();
  return (line) => log(`[${Math.round((Date.now() - started) / 1000)} s] ${line.trimStart()}`);
}
