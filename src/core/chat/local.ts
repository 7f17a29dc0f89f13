// The offline runner: answers by quoting the best passages of the agent's documents.
// Deterministic (the same question over the same documents gives the same answer), no
// network, no model.
import type { SearchHit } from '../search/retriever.js';
import type { Agent } from '../schemas.js';
import { SOURCES_SETTING, sourcesFor, toSource, type ChatRunner, type RunnerDefinition, type RunnerEvent, type RunnerInput } from './runner.js';

export const localRunner: RunnerDefinition = {
  kind: 'local',
  settings: { sources: SOURCES_SETTING },
  builtInProviders: [{ name: 'local', base_url: null, api_key_env: null, model: null }],
  create: () => new LocalRunner(),
  test: async (provider) => ({ model: null, elapsedMs: 0, message: `${provider.name}: the offline runner answers from documents, without a network` }),
};

class LocalRunner implements ChatRunner {
  readonly name = 'local';

  async *run(input: RunnerInput): AsyncIterable<RunnerEvent> {
    const sources = sourcesFor(input.agent);
    const [found, unreadable] = await Promise.all([input.search(input.message, sources), input.unreadable()]);
    const hits = bestPerDocument(found, sources);
    // The library is looked at only to explain why nothing was found.
    const answer = hits.length ? quote(hits) : explainNoAnswer(input.agent, await input.library());
    const reply = unreadable.count ? `${answer}\n\n${unreadableNote(unreadable)}` : answer;
    // Streamed word by word, like a model would, so every front end renders it the same way.
    for (const piece of reply.match(/\S+\s*|\s+/g) ?? []) {
      if (input.signal.aborted) return;
      yield { type: 'delta', text: piece };
    }
    yield { type: 'done', reply, sources: hits.map(toSource) };
  }
}

function bestPerDocument(hits: SearchHit[], count: number): SearchHit[] {
  const seen = new Set<number>();
  return hits.filter((hit) => !seen.has(hit.documentId) && seen.add(hit.documentId)).slice(0, count);
}

/** Said plainly: documents in scope that were never searched because their text could not be read. */
function unreadableNote({ count, names }: { count: number; names: string[] }): string {
  const listed = `${names.join(', ')}${count > names.length ? `, and ${count - names.length} more` : ''}`;
  return count === 1
    ? `Note: I could not read ${listed}, so it was not searched (see \`dana docs list\`; fix the file and upload it again).`
    : `Note: I could not read ${count} documents (${listed}), so they were not searched (see \`dana docs list\`; fix the files and upload them again).`;
}

function quote(hits: SearchHit[]): string {
  const quotes = hits.map((hit, i) => `${i + 1}. From ${hit.originalFilename}:\n   "${toSource(hit).snippet}"`);
  return [`Here is what my documents say about that:`, '', quotes.join('\n\n')].join('\n');
}

function explainNoAnswer(agent: Agent, library: { documentCount: number; names: string[] }): string {
  const upload = `dana docs upload FILE --agent ${agent.id}`;
  const model = 'add a provider and name it in my config (dana providers add ollama --base-url http://127.0.0.1:11434/v1 --model llama3.2, ' +
    `then dana agents update ${agent.id} --config '{"provider": "ollama"}'; or "provider": "openai" with OPENAI_API_KEY set)`;
  if (!library.documentCount) {
    return [
      "I don't have any documents to answer from yet.",
      '',
      `Add some with \`${upload}\` (or upload them into a topic and list its id in my config's "topic_ids"), ` +
        `or connect me to a language model: ${model}.`,
    ].join('\n');
  }
  const count = `${library.documentCount} document${library.documentCount === 1 ? '' : 's'}`;
  const names = library.names.length ? ` (${library.names.join(', ')}${library.documentCount > library.names.length ? ', …' : ''})` : '';
  return [
    `I couldn't find anything about that in my ${count}${names}.`,
    '',
    `Try other words, add documents with \`${upload}\`, or connect me to a language model for answers beyond quotes: ${model}.`,
  ].join('\n');
}
