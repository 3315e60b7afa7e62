/**
 * A small structured logger: human lines by default, JSON lines with `json: true` (for log
 * shippers). Fields are key=value pairs; errors log their code and message, not a stack,
 * unless the level is debug.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export const LOG_LEVELS = Object.keys(ORDER) as LogLevel[];

function fmt(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

export function createLogger(opts: { level?: LogLevel; json?: boolean; write?: (line: string) => void; fields?: LogFields } = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const base = opts.fields ?? {};
  const log = (level: Exclude<LogLevel, 'silent'>, msg: string, fields: LogFields = {}): void => {
    if (ORDER[level] < min) return;
    const all = { ...base, ...fields };
    const t = new Date().toISOString();
    if (opts.json) {
      write(JSON.stringify({ t, level, msg, ...all }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Error ? v.message : v)));
    } else {
      const kv = Object.entries(all).map(([k, v]) => `${k}=${fmt(v)}`).join(' ');
      write(`${t} ${level.toUpperCase().padEnd(5)} ${msg}${kv ? ` ${kv}` : ''}`);
    }
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createLogger({ ...opts, fields: { ...base, ...fields } }),
  };
}

export const silentLogger: Logger = createLogger({ level: 'silent' });
