// The prompt's line editor. Keys can arrive faster than the screen re-renders (type-ahead
// after Enter, a paste, a fast terminal delivering text and Enter in one chunk), so the
// line and cursor live in refs that every key reads and updates at once: a key is never
// applied to a stale line, and each line break ends exactly the text typed before it.
// Up and Down walk the lines typed before (the draft is kept); Ctrl-C clears the line and
// tells the chat, which decides whether it stops a reply or leaves.
import { useRef, useState } from 'react';
import { Text, useInput } from 'ink';

export interface LineInputProps {
  /** Called once per finished line, in the order typed. */
  onLine: (line: string) => void;
  placeholder?: string;
  /** Lines typed before, oldest first (read at each key, so it may grow in place). */
  history?: readonly string[];
  /** Ctrl-C: `hadText` says whether the line held text (now cleared). */
  onInterrupt?: (hadText: boolean) => void;
}

export function LineInput({ onLine, placeholder = '', history = [], onInterrupt }: LineInputProps) {
  const line = useRef('');
  const cursor = useRef(0);
  // Where Up/Down stand in the history: undefined is the line being written (kept in draft).
  const recalled = useRef<number | undefined>(undefined);
  const draft = useRef('');
  const [, setShown] = useState({ line: '', cursor: 0 });
  const show = () => setShown({ line: line.current, cursor: cursor.current });

  const insert = (text: string) => {
    line.current = line.current.slice(0, cursor.current) + text + line.current.slice(cursor.current);
    cursor.current += text.length;
  };
  const erase = () => {
    if (cursor.current === 0) return;
    line.current = line.current.slice(0, cursor.current - 1) + line.current.slice(cursor.current);
    cursor.current--;
  };
  const replace = (text: string) => {
    line.current = text;
    cursor.current = text.length;
  };
  const finish = () => {
    const done = line.current;
    replace('');
    recalled.current = undefined;
    onLine(done);
  };
  const recall = (step: -1 | 1) => {
    const at = recalled.current ?? history.length;
    const next = Math.min(history.length, Math.max(0, at + step));
    if (next === at) return;
    if (recalled.current === undefined) draft.current = line.current;
    recalled.current = next === history.length ? undefined : next;
    replace(recalled.current === undefined ? draft.current : history[next]);
  };

  useInput((input, key) => {
    if (key.ctrl && input === 'c') {
      const hadText = line.current.length > 0;
      replace('');
      recalled.current = undefined;
      show();
      onInterrupt?.(hadText);
      return;
    }
    if (key.upArrow) recall(-1);
    else if (key.downArrow) recall(1);
    else if (key.ctrl || key.meta || key.tab) return;
    else if (key.return) finish();
    else if (key.backspace || key.delete) erase();
    else if (key.leftArrow) cursor.current = Math.max(0, cursor.current - 1);
    else if (key.rightArrow) cursor.current = Math.min(line.current.length, cursor.current + 1);
    else if (key.home) cursor.current = 0;
    else if (key.end) cursor.current = line.current.length;
    else {
      // Ink hands over a run of keys typed together as one string (escape sequences apart):
      // each line break in it is an Enter, each DEL or BS a backspace.
      for (const char of input.replace(/\r\n/g, '\r')) {
        if (char === '\r' || char === '\n') finish();
        else if (char === '\x7f' || char === '\b') erase();
        else if (char >= ' ') insert(char);
      }
    }
    show();
  });

  const value = line.current;
  if (!value) {
    return (
      <Text>
        <Text inverse>{placeholder[0] ?? ' '}</Text>
        <Text color="gray">{placeholder.slice(1)}</Text>
      </Text>
    );
  }
  const at = cursor.current;
  return (
    <Text>
      {value.slice(0, at)}
      <Text inverse>{value[at] ?? ' '}</Text>
      {value.slice(at + 1)}
    </Text>
  );
}
