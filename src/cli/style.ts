// Colour for people at a terminal, off for everyone else: never when the stream is not a
// terminal, with --json, with --no-color, with NO_COLOR set (https://no-color.org) or on a
// dumb terminal. Plain SGR codes rather than a colour library, because the decision must
// come from the command's IO object (tests drive it in-process), not from `process`.
import type { Env } from './io.js';

export interface Style {
  bold: (text: string) => string;
  dim: (text: string) => string;
  red: (text: string) => string;
  green: (text: string) => string;
  cyan: (text: string) => string;
  yellow: (text: string) => string;
  italic: (text: string) => string;
  underline: (text: string) => string;
}

const sgr = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
const plain = (text: string) => text;

export const COLOURS: Style = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  cyan: sgr(36, 39),
  yellow: sgr(33, 39),
  italic: sgr(3, 23),
  underline: sgr(4, 24),
};
export const NO_COLOURS: Style = { bold: plain, dim: plain, red: plain, green: plain, cyan: plain, yellow: plain, italic: plain, underline: plain };

/** Whether a stream gets colour: a terminal, and nobody asked for none. */
export function wantsColour(stream: { isTTY?: boolean }, env: Env, colourFlag: boolean | undefined): boolean {
  if (!stream.isTTY || colourFlag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return env.TERM !== 'dumb';
}
