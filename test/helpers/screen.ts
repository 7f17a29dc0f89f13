// Driving an Ink app rendered with ink-testing-library the way a user would: read what the
// screen shows, wait for text, type a line.
import type { render } from 'ink-testing-library';
import { waitFor } from './chat.js';

export type Screen = ReturnType<typeof render>;

// Generous: the machine running the tests may be loaded; a pass never waits this long.
export const DEADLINE_MS = 15_000;

/** What the screen shows now. */
export const frame = (screen: Screen) => screen.lastFrame() ?? '';

/** Waits until the screen shows `text` `times` times. */
export async function waitForText(screen: Screen, text: string, times = 1): Promise<string> {
  return waitFor(() => {
    const shown = frame(screen);
    return shown.split(text).length - 1 >= times ? shown : '';
  }, DEADLINE_MS, `"${text}" on screen:\n${frame(screen)}`);
}

/** Types a line and presses Enter once it shows at the prompt. */
export async function typeLine(screen: Screen, text: string): Promise<void> {
  screen.stdin.write(text);
  await waitForText(screen, `> ${text}`);
  screen.stdin.write('\r');
}
