// Opens the chat screen on a terminal and resolves when the user leaves it.
import { render } from 'ink';
import type { CliIo } from '../cli/io.js';
import { COLOURS, NO_COLOURS } from '../cli/style.js';
import type { DanaContext } from '../core/context.js';
import type { Agent } from '../core/schemas.js';
import { ChatApp } from './ChatApp.js';
import { chatBackend, conversationHistory } from './backend.js';
import { openPromptHistory, promptHistoryFile } from './history.js';

export interface ChatAppOptions {
  /** Colour for the rendered Markdown (the command decides: a terminal, no NO_COLOR, no --no-color). */
  colour: boolean;
}

export async function runChatApp(context: DanaContext, agent: Agent, conversationId: number | undefined, io: CliIo, options: ChatAppOptions): Promise<void> {
  const history = conversationId ? await conversationHistory(context, conversationId) : [];
  const promptHistory = openPromptHistory(promptHistoryFile(context.config.dataDir));
  // Ctrl-C is handled by the app: it stops the reply in progress, then leaves.
  const backend = chatBackend(context, agent);
  const app = render(
    <ChatApp backend={backend} conversationId={conversationId} history={history} promptHistory={promptHistory} style={options.colour ? COLOURS : NO_COLOURS} />,
    {
      exitOnCtrlC: false,
      stdin: io.stdin as NodeJS.ReadStream,
      stdout: io.stdout as NodeJS.WriteStream,
      stderr: io.stderr as NodeJS.WriteStream,
    },
  );
  await app.waitUntilExit();
  // Leaving while a run was worked on here hands it back to the queue: let that finish first.
  await backend.settled();
}
