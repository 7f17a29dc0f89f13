// Finds an object key given twice in a JSON text. JSON.parse silently keeps the last one,
// so {"name": "a", "name": "b"} would be read as something the client may not have meant.

/** The location of the first repeated key (e.g. ["config", "model"]), or undefined. */
export function duplicateKey(text: string): Array<string | number> | undefined {
  // One frame per open object or array: the keys seen, the key or index being read.
  const frames: Array<{ keys?: Set<string>; expectsKey?: boolean; at: string | number }> = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      let end = i + 1;
      let hasEscape = false;
      while (end < text.length) {
        const inner = text.charCodeAt(end);
        if (inner === 0x5c) {
          hasEscape = true;
          end += 2;
          continue;
        }
        if (inner === 0x22) break;
        end++;
      }
      const frame = frames.at(-1);
      if (frame?.keys && frame.expectsKey) {
        const key = hasEscape ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        if (frame.keys.has(key)) return [...frames.slice(0, -1).map((outer) => outer.at), key];
        frame.keys.add(key);
        frame.at = key;
        frame.expectsKey = false;
      }
      i = end;
    } else if (code === 0x7b) {
      frames.push({ keys: new Set(), expectsKey: true, at: '' });
    } else if (code === 0x5b) {
      frames.push({ at: 0 });
    } else if (code === 0x7d || code === 0x5d) {
      frames.pop();
    } else if (code === 0x2c) {
      const frame = frames.at(-1);
      if (frame?.keys) frame.expectsKey = true;
      else if (frame) frame.at = (frame.at as number) + 1;
    }
  }
  return undefined;
}
