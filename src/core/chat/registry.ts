// The runners and retrievers a context can use, and what follows from them: the agent
// config schema checked on save, the built-in providers, and which runner answers for a
// provider. Tests make one with extra kinds; everything else uses the default.
import { agentBodiesFor, agentConfigFor, AgentCreateSchema, AgentUpdateSchema } from '../schemas.js';
import { RETRIEVERS } from '../search/retrievers.js';
import type { Retriever, RetrieverDefinition, RetrieverDeps } from '../search/retriever.js';
import type { ProviderSettings } from '../services/providers.js';
import { RUNNERS } from './runners.js';
import type { RunnerDefinition } from './runner.js';

let extraRegistries = 0;

export class ChatRegistry {
  /** The agent bodies' schemas, whose `config` holds the keys of these runners and retrievers. */
  readonly agentSchemas: { create: { $id: string }; update: { $id: string } };

  constructor(
    readonly runners: readonly RunnerDefinition[] = RUNNERS,
    readonly retrievers: readonly RetrieverDefinition[] = RETRIEVERS,
  ) {
    const isDefault = runners === RUNNERS && retrievers === RETRIEVERS;
    // Compiled validators are cached by $id: another set of kinds needs ids of its own.
    this.agentSchemas = isDefault
      ? { create: AgentCreateSchema, update: AgentUpdateSchema }
      : agentBodiesFor(agentConfigFor(runners, retrievers), `~${++extraRegistries}`);
    for (const list of [runners, retrievers]) {
      const kinds = list.map((item) => item.kind);
      if (new Set(kinds).size !== kinds.length) throw new Error(`a kind is registered twice: ${kinds.join(', ')}`);
    }
  }

  /** A registry with these kinds too. */
  with(extra: { runners?: RunnerDefinition[]; retrievers?: RetrieverDefinition[] }): ChatRegistry {
    return new ChatRegistry([...this.runners, ...(extra.runners ?? [])], [...this.retrievers, ...(extra.retrievers ?? [])]);
  }

  /** The providers every data folder has, each answered by the runner that brings it. */
  get builtInProviders(): Omit<ProviderSettings, 'is_default'>[] {
    return this.runners.flatMap((runner) => runner.builtInProviders.map((provider) => ({ embedding_model: null, ...provider, runner: runner.kind })));
  }

  runner(kind: string): RunnerDefinition {
    const found = this.runners.find((runner) => runner.kind === kind);
    if (!found) throw new Error(`no runner of kind "${kind}" is registered`);
    return found;
  }

  /** One retriever of each kind for a context's database, the default first. */
  createRetrievers(deps: RetrieverDeps): Map<string, Retriever> {
    return new Map(this.retrievers.map((definition) => [definition.kind, definition.create(deps)]));
  }
}
