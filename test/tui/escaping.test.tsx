/** @jsxRuntime automatic */
/** @jsxImportSource react */
// The interactive chat shows stored text (the agent's name, the history, replies and source
// names) with its control characters escaped: a stored OSC or clear-screen sequence must not
// reach the terminal. Ink's own styling (SGR colours) is the only escape it may send.
import { expect } from 'chai';
import { cleanup, render } from 'ink-testing-library';
import { ChatApp } from '../../src/tui/ChatApp.js';
import type { ChatBackend } from '../../src/tui/backend.js';
import type { Agent, ChatResponse, Message } from '../../src/core/schemas.js';
import { waitFor } from '../helpers/chat.js';

const HOSTILE = '\u001b]0;pwned\u0007\u001b[2J';
const SHOWN = '\\x1b]0;pwned\\x07\\x1b[2J';
// Anything but an SGR sequence (ESC [ digits/; m): OSC, BEL, cursor and erase commands, C1.
const FOREIGN_CONTROL = /\u001b(?!\[[0-9;]*m)|[\u0000-\u0008\u000b-\u001a\u001c-\u001f\u007f-\u009f]/;

const agent: Agent = { id: 1, name: `Ada${HOSTILE}`, description: '', config: {}, created_at: '', updated_at: '' };
const message = (id: number, sender: string, content: string): Message => ({
  id, conversation_id: 7, sender, content, sources: null, created_at: '', updated_at: '',
});

const backend: ChatBackend = {
  agent,
  async *send(text: string) {
    yield { type: 'delta', text: `partial ${HOSTILE}` };
    const response = {
      success: true, message: text, conversation_id: 7, message_id: 3, agent_response: `reply ${HOSTILE}`,
      context: null, error: null, runner: 'local',
      sources: [{ document_id: 1, original_filename: `a${HOSTILE}.txt`, snippet: '' }],
    } as unknown as ChatResponse;
    yield { type: 'done', response };
  },
} as unknown as ChatBackend;

describe('the interactive chat escapes stored text', () => {
  afterEach(() => cleanup());

  it('in the agent name, the history, a reply and its sources', async () => {
    const screen = render(<ChatApp backend={backend} conversationId={7} history={[message(1, 'user', `question ${HOSTILE}`), message(2, 'agent', `answer ${HOSTILE}`)]} />);
    const all = () => screen.frames.join('');
    await waitFor(() => all().includes(`answer ${SHOWN}`), 2000, 'history on screen');
    screen.stdin.write('hello');
    await waitFor(() => all().includes('hello'), 2000, 'typed text on screen');
    screen.stdin.write('\r');
    await waitFor(() => all().includes(`reply ${SHOWN}`), 2000, `reply on screen:\n${screen.lastFrame()}`);
    const frames = all();
    expect(frames).to.contain(`Ada${SHOWN}`).and.contain(`question ${SHOWN}`).and.contain(`a${SHOWN}.txt`);
    expect(FOREIGN_CONTROL.test(frames), JSON.stringify(frames.match(FOREIGN_CONTROL))).to.equal(false);
  });
});
