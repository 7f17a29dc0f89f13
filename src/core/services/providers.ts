// Model providers: named OpenAI-compatible endpoints and the name of the environment
// variable holding each one's key (never the key). Managed from the CLI only; read from
// the database on every use, so a running server sees a change at once. The runners bring
// the built-in ones, which cannot be removed: "local" (the offline runner) and "openai".
import { ConflictError, NotFoundError, RunnerError, ValidationError } from '../errors.js';
import { nextTimestamp } from '../db/tables.js';
import { validateBody, validateText } from '../validation.js';
import {
  ListQuerySchema, ProviderInputSchema,
  type ListQuery, type Page, type Provider, type ProviderInput,
} from '../schemas.js';
import type { ChatRegistry } from '../chat/registry.js';
import type { ServiceDeps } from './support.js';
import { writing } from '../errors.js';

type Env = Record<string, string | undefined>;

/** A provider as the chat runner uses it. */
export interface ProviderSettings {
  name: string;
  /** null only for "local". */
  base_url: string | null;
  api_key_env: string | null;
  model: string | null;
  /** The model of its OpenAI-compatible /embeddings endpoint; null: its agents retrieve by full text only. */
  embedding_model: string | null;
  is_default: boolean;
  /** The kind of runner that answers for it (see chat/runners.ts). */
  runner: string;
}

/** Providers added with `dana providers add` are OpenAI-compatible endpoints. */
const ADDED_PROVIDER_RUNNER = 'openai-compatible';

export interface ProviderDeps extends ServiceDeps {
  /** The environment of the process that answers: where keys are looked up. */
  env: Env;
  registry: ChatRegistry;
}

export interface ProviderTest {
  name: string;
  base_url: string | null;
  model: string | null;
  /** What answered, in one sentence. */
  message: string;
  elapsed_ms: number;
}

export class ProviderService {
  constructor(private readonly deps: ProviderDeps) {}

  async list(query: Record<string, unknown> = {}): Promise<Page<Provider>> {
    const paging = validateText<ListQuery>(ListQuerySchema, query);
    const all = (await this.all()).map((provider) => this.toApi(provider));
    return { items: all.slice(paging.skip, paging.skip + paging.limit), total: all.length };
  }

  async get(name: string): Promise<Provider> {
    return this.toApi(await this.require(name));
  }

  /** The provider of that name, or undefined. */
  async find(name: string): Promise<ProviderSettings | undefined> {
    return (await this.all()).find((provider) => provider.name === name);
  }

  /**
   * The provider an agent's config chooses: `provider` when given, else the provider marked
   * default (which is "local" unless another one is). Never guessed from the environment.
   */
  async resolve(chosen: unknown, known?: ProviderSettings[]): Promise<ProviderSettings> {
    const all = known ?? (await this.all());
    // Configs written before they were checked may say null for "not set".
    if (chosen === undefined || chosen === null) return all.find((provider) => provider.is_default) ?? all[0];
    const found = typeof chosen === 'string' ? all.find((provider) => provider.name === chosen) : undefined;
    if (!found) {
      throw new RunnerError(`provider ${JSON.stringify(chosen)} does not exist (see dana providers list, and point the agent at another with dana agents update)`);
    }
    return found;
  }

  async add(input: unknown): Promise<Provider> {
    const data = validateBody<ProviderInput>(ProviderInputSchema, input);
    if (this.builtIn(data.name)) throw new ConflictError(`Provider "${data.name}" already exists (it is built in)`);
    if (data.base_url === undefined) throw ValidationError.field(['body', 'base_url'], 'Field required', 'missing');
    checkBaseUrl(data.base_url);
    const now = nextTimestamp();
    await writing(data, () =>
      this.deps.knex.transaction(async (trx) => {
        if (data.is_default) await trx('providers').update({ is_default: false });
        await trx('providers').insert({
          name: data.name, base_url: data.base_url, api_key_env: data.api_key_env ?? null, model: data.model ?? null,
          embedding_model: data.embedding_model ?? null, is_default: data.is_default ?? false, created_at: now, updated_at: now,
        });
      }),
    );
    return this.get(data.name);
  }

  /**
   * Changes only the fields given. The built-ins keep their URL and key variable; "openai"
   * may take another model, and either may become the default.
   */
  async update(name: string, changes: Omit<ProviderInput, 'name'>): Promise<Provider> {
    const data = validateBody<ProviderInput>(ProviderInputSchema, { ...changes, name });
    const { name: _name, ...given } = data;
    if (!Object.keys(given).length) throw ValidationError.field(['body'], 'Give at least one change (--base-url, --api-key-env, --model, --embedding-model or --default)', 'missing');
    const current = await this.require(name);
    if (data.base_url !== undefined) checkBaseUrl(data.base_url);
    const builtIn = this.builtIn(name);
    if (builtIn) {
      // One that comes without a model (the offline runner's) cannot take one, nor an embedding model.
      const fixed = builtIn.model === null ? ['base_url', 'api_key_env', 'model', 'embedding_model'] : ['base_url', 'api_key_env'];
      for (const field of fixed) {
        if (field in given) {
          throw ValidationError.field(['body', field], `the built-in provider "${name}" cannot change this; add a provider of your own with dana providers add`);
        }
      }
    }
    await this.deps.knex.transaction(async (trx) => {
      if (data.is_default) await trx('providers').whereNot({ name }).update({ is_default: false });
      const now = nextTimestamp();
      const updated = await trx('providers').where({ name }).update({ ...given, updated_at: now });
      // A built-in provider gets a row the first time it is changed.
      if (!updated) {
        await trx('providers').insert({
          name, base_url: current.base_url ?? '', api_key_env: current.api_key_env, model: builtIn?.model ? current.model : null,
          is_default: false, created_at: now, updated_at: now, ...given,
        });
      }
    });
    return this.get(name);
  }

  /** Agents that still name a removed provider fail (422 on update, 502 on chat) until re-pointed. */
  async remove(name: string): Promise<{ message: string }> {
    if (this.builtIn(name)) throw new ConflictError(`Provider "${name}" is built in and cannot be removed`);
    const count = await this.deps.knex('providers').where({ name }).delete();
    if (!count) throw new NotFoundError(`Provider "${name}" not found`);
    return { message: `Provider "${name}" removed` };
  }

  /** One small request to the provider: what answered, or RunnerError. */
  async test(name: string, model?: string): Promise<ProviderTest> {
    const provider = await this.require(name);
    const answered = await this.deps.registry.runner(provider.runner).test(provider, model, { env: this.deps.env });
    return { name, base_url: provider.base_url, model: answered.model, message: answered.message, elapsed_ms: answered.elapsedMs };
  }

  toApi(provider: ProviderSettings): Provider {
    const { name, base_url, api_key_env, model, embedding_model, is_default } = provider;
    return { name, base_url, api_key_env, has_key: Boolean(api_key_env && this.deps.env[api_key_env]), model, embedding_model, is_default };
  }

  /** The built-ins (with any change made to them), then the providers added, oldest first. */
  /** Every provider, built-ins first (read once, then resolve many agents against it). */
  async all(): Promise<ProviderSettings[]> {
    const rows = await this.deps.sql.all<Record<string, unknown>>('SELECT * FROM providers ORDER BY id');
    const rowOf = new Map(rows.map((row) => [row.name as string, row]));
    const builtIns = this.deps.registry.builtInProviders.map((builtIn): ProviderSettings => {
      const row = rowOf.get(builtIn.name);
      if (!row) return { ...builtIn, is_default: false };
      return {
        ...builtIn,
        model: builtIn.model && ((row.model as string | null) ?? builtIn.model),
        embedding_model: builtIn.base_url ? ((row.embedding_model as string | null) ?? builtIn.embedding_model) : null,
        is_default: Boolean(row.is_default),
      };
    });
    const added = rows.filter((row) => !this.builtIn(row.name as string)).map((row): ProviderSettings => ({
      name: row.name as string,
      base_url: row.base_url as string,
      api_key_env: (row.api_key_env as string | null) ?? null,
      model: (row.model as string | null) ?? null,
      embedding_model: (row.embedding_model as string | null) ?? null,
      is_default: Boolean(row.is_default),
      runner: ADDED_PROVIDER_RUNNER,
    }));
    const all = [...builtIns, ...added];
    // Exactly one default: the first marked, else "local".
    const chosen = all.find((provider) => provider.is_default) ?? all[0];
    return all.map((provider) => ({ ...provider, is_default: provider === chosen }));
  }

  /** The built-in provider of that name, as its runner brings it. */
  private builtIn(name: string) {
    return this.deps.registry.builtInProviders.find((provider) => provider.name === name);
  }

  private async require(name: string): Promise<ProviderSettings> {
    const found = await this.find(name);
    if (!found) throw new NotFoundError(`Provider "${name}" not found`);
    return found;
  }
}

/** An http(s) URL without credentials: a key goes in its variable, never in the URL. */
function checkBaseUrl(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw ValidationError.field(['body', 'base_url'], `"${value}" is not a URL (e.g. http://127.0.0.1:11434/v1)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw ValidationError.field(['body', 'base_url'], 'The URL should start with http:// or https://');
  if (url.username || url.password) throw ValidationError.field(['body', 'base_url'], 'The URL should not hold credentials: name the key variable with --api-key-env');
}
