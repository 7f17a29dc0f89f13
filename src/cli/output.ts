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
  /** Free text that gives up columns first when the table is wider than the terminal. */
  flexible?: boolean;
}

export interface TableLayout {
  /** The terminal's width: flexible columns are cut (with `…`) until each row fits. */
  width?: number;
  /** Styles the header row (bold on a colour terminal); applied after measuring. */
  styleHeader?: (text: string) => string;
}

// A flexible column never shrinks below this, so a cut cell still says something.
const MIN_FLEXIBLE_WIDTH = 8;

export function formatTable<T>(rows: T[], columns: Array<Column<T>>, layout: TableLayout = {}): string {
  const cells = rows.map((row) => columns.map((column) => cell(column.get(row), column.maxWidth)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => width(line[i]))));
  if (layout.width) fitColumns(widths, columns, layout.width);
  const render = (line: string[]) =>
    line
      .map((text, i) => {
        const shown = truncate(text, widths[i]);
        return i === line.length - 1 ? shown : shown + ' '.repeat(widths[i] - width(shown));
      })
      .join('  ')
      .trimEnd();
  const header = render(columns.map((column) => column.header));
  return [layout.styleHeader ? layout.styleHeader(header) : header, ...cells.map(render)].join('\n');
}

/** Narrows the widest flexible column, one column of text at a time, until the row fits. */
function fitColumns<T>(widths: number[], columns: Array<Column<T>>, terminalWidth: number): void {
  const gaps = 2 * (columns.length - 1);
  for (let total = widths.reduce((sum, w) => sum + w, gaps); total > terminalWidth; total--) {
    const candidates = columns.map((column, i) => i).filter((i) => columns[i].flexible && widths[i] > Math.max(MIN_FLEXIBLE_WIDTH, columns[i].header.length));
    if (!candidates.length) return;
    const widest = candidates.reduce((best, i) => (widths[i] > widths[best] ? i : best));
    widths[widest]--;
  }
}

/** A timestamp as people read it in a table: local date and time to the minute. */
export function formatTimestamp(iso: unknown): string {
  if (typeof iso !== 'string') return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}`;
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
  const text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return truncate(escapeControls(text.replace(/\s+/g, ' ').trim()), maxWidth);
}

/** Text cut to `columns` terminal columns, its last one an ellipsis when anything was cut. */
export function truncate(text: string, columns?: number): string {
  if (!columns || width(text) <= columns) return text;
  let kept = '';
  let used = 0;
  for (const char of text) {
    if (used + width(char) > columns - 1) break;
    kept += char;
    used += width(char);
  }
  return `${kept}…`;
}

// Wide characters (CJK, emoji) take two columns in a terminal.
export function width(text: string): number {
  let columns = 0;
  for (const char of text) columns += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1faff}\u{20000}-\u{3fffd}]/u.test(char) ? 2 : 1;
  return columns;
}

/**
 * Text wrapped at word boundaries to `columns` terminal columns, each line after `indent`;
 * its own line breaks are kept and a word longer than a line is split. No width: as it is.
 */
export function wrapText(text: string, columns: number | undefined, indent = ''): string {
  const room = columns ? Math.max(20, columns - width(indent)) : Infinity;
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/(?<=\s)(?=\S)/)) {
      if (line && width((line + word).trimEnd()) > room) {
        lines.push(line.trimEnd());
        line = '';
      }
      let rest = word;
      while (width(rest.trimEnd()) > room) {
        const [head, tail] = splitAtWidth(rest, room);
        lines.push(head);
        rest = tail;
      }
      line += rest;
    }
    lines.push(line.trimEnd());
  }
  return lines.map((line) => (line ? indent + line : line)).join('\n');
}

function splitAtWidth(text: string, columns: number): [string, string] {
  let head = '';
  for (const char of text) {
    if (width(head + char) > columns) break;
    head += char;
  }
  return [head, text.slice(head.length)];
}
