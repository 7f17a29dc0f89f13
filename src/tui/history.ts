// What was typed at the chat prompt, kept per data folder (`<data folder>/chat_history`,
// one JSON string per line, 0600 like the database) so Up recalls it in the next session.
import fs from 'node:fs';
import path from 'node:path';

const KEPT_ENTRIES = 1000;

export interface PromptHistory {
  /** Oldest first. */
  entries: string[];
  remember(line: string): void;
}

export function promptHistoryFile(dataDir: string): string {
  return path.join(dataDir, 'chat_history');
}

/** The history in `file`; an unreadable file (or line) starts it empty rather than failing the chat. */
export function openPromptHistory(file: string): PromptHistory {
  let entries: string[] = [];
  try {
    entries = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line) => {
        try {
          const entry: unknown = line ? JSON.parse(line) : undefined;
          return typeof entry === 'string' ? [entry] : [];
        } catch {
          return [];
        }
      })
      .slice(-KEPT_ENTRIES);
  } catch {
    // No history yet.
  }
  return {
    entries,
    remember(line) {
      if (!line.trim() || entries.at(-1) === line) return;
      entries.push(line);
      try {
        fs.appendFileSync(file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
        if (entries.length > KEPT_ENTRIES * 2) {
          entries.splice(0, entries.length - KEPT_ENTRIES);
          fs.writeFileSync(file, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''), { mode: 0o600 });
        }
      } catch {
        // A read-only data folder loses the history, not the chat.
      }
    },
  };
}
