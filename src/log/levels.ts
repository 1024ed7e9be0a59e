// Log levels: uvicorn's names on the command line, pino's numbers in JSON lines, so `--log-level`
// reads as it does for uvicorn and `--log-format json` is read by pino's tools (pino-pretty...).

/** uvicorn's level names, each with pino's number for it (critical is pino's fatal, warning its warn). */
export const logLevels = { critical: 60, error: 50, warning: 40, info: 30, debug: 20, trace: 10 } as const;

export type LogLevel = keyof typeof logLevels;

/** The word a text line shows for each number. */
export const levelLabels: Readonly<Record<number, string>> = {
  60: "CRITICAL",
  50: "ERROR",
  40: "WARNING",
  30: "INFO",
  20: "DEBUG",
  10: "TRACE",
};

/** The number of a level name; a name that is not one is a RangeError listing the names. */
export function levelNumber(level: LogLevel | undefined): number {
  if (level === undefined) return logLevels.info;
  const value = Object.hasOwn(logLevels, level) ? logLevels[level] : undefined;
  if (value === undefined) {
    throw new RangeError(`log level must be one of ${Object.keys(logLevels).join(", ")}, got ${JSON.stringify(level)}`);
  }
  return value;
}
