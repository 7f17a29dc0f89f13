// The server's log: one line per event on stderr, filtered by level.
export const LOG_LEVELS = ['debug', 'info', 'warning', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  isEnabled(level: LogLevel): boolean;
}

export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const at = (name: LogLevel) => (message: string) => {
    if (LOG_LEVELS.indexOf(name) >= threshold) write(`${new Date().toISOString()} ${name.toUpperCase().padEnd(7)} ${message}\n`);
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warning: at('warning'),
    error: at('error'),
    isEnabled: (name) => LOG_LEVELS.indexOf(name) >= threshold,
  };
}

export const silentLogger: Logger = createLogger('error', () => undefined);
