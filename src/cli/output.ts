// Human output: aligned tables for lists, `key: value` lines for single records, and the
// one escaping of control characters every human renderer applies to stored text.
// JSON output needs none of this: it is the API's shape, printed by the base command.

// C0 controls but newline and tab, DEL and C1: a stored name holding ESC or BEL could
// otherwise retitle, clear or recolour the owner's terminal.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Text safe for a terminal: each control character shown as `\x1b` (newline and tab kept). */
export function escapeControls(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export interface Column<T> {
  header: string;
  get: (row: T) => unknown;
  /** Cut longer cells with an ellipsis (descriptions, message text). */
  maxWidth?: number;
}

export function formatTable<T>(rows: T[], columns: Array<Column<T>>): string {
  const cells = rows.map((row) => columns.map((column) => cell(column.get(row), column.maxWidth)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => width(line[i]))));
  const render = (line: string[]) =>
    line.map((text, i) => (i === line.length - 1 ? text : text + ' '.repeat(widths[i] - width(text)))).join('  ').trimEnd();
  return [render(columns.map((column) => column.header)), ...cells.map(render)].join('\n');
}

export function formatRecord(record: Record<string, unknown>): string {
  return Object.entries(record)
    .map(([key, value]) => `${key}: ${escapeControls(value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value))}`)
    .join('\n');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

function cell(value: unknown, maxWidth?: number): string {
  let text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  text = escapeControls(text.replace(/\s+/g, ' ').trim());
  if (maxWidth && text.length > maxWidth) text = `${text.slice(0, maxWidth - 1)}…`;
  return text;
}

// Wide characters (CJK, emoji) take two columns in a terminal.
function width(text: string): number {
  let columns = 0;
  for (const char of text) columns += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1faff}\u{20000}-\u{3fffd}]/u.test(char) ? 2 : 1;
  return columns;
}
