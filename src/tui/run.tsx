// Opens the chat screen on a terminal and resolves when the user leaves it.
import { render } from 'ink';
import type { CliIo } from '../cli/io.js';
import type { DanaContext } from '../core/context.js';
import type { Agent } from '../core/schemas.js';
import { ChatApp } from './ChatApp.js';
import { chatBackend, conversationHistory } from './backend.js';

export async function runChatApp(context: DanaContext, agent: Agent, conversationId: number | undefined, io: CliIo): Promise<void> {
  const history = conversationId ? await conversationHistory(context, conversationId) : [];
  // Ctrl-C is handled by the app: it cancels the reply in progress, then leaves.
  const app = render(<ChatApp backend={chatBackend(context, agent)} conversationId={conversationId} history={history} />, {
    exitOnCtrlC: false,
    stdin: io.stdin as NodeJS.ReadStream,
    stdout: io.stdout as NodeJS.WriteStream,
    stderr: io.stderr as NodeJS.WriteStream,
  });
  await app.waitUntilExit();
}
