// The one place that opens a database and picks an upload folder. Every front end makes a
// context, passes it down explicitly, and closes it when done.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';
import type { DanaConfig } from './config.js';
import { ValidationError } from './errors.js';
import { openDatabase } from './db/dialects.js';
import { migrateToLatest, pendingMigrations } from './db/migrate.js';
import { bindModels, type Models } from './db/models.js';
import { FileStore } from './files.js';
import { AgentService } from './services/agents.js';
import { TopicService } from './services/topics.js';
import { DocumentService } from './services/documents.js';
import { ConversationService } from './services/conversations.js';
import { MessageService } from './services/messages.js';
import { ChatService } from './chat/service.js';
import { ChatRegistry } from './chat/registry.js';
import { PassageIndex } from './search/index.js';
import { DatabaseService } from './services/database.js';
import { ProviderService } from './services/providers.js';
import { TokenService } from './services/tokens.js';
import { SearchService } from './services/search.js';
import { EmbeddingService, type EmbeddingLog } from './services/embeddings.js';
import { ChangeFeed, type ChangeFeedOptions } from './events.js';
import { RunService } from './runs/service.js';
import { leaseMsFrom } from './runs/queue.js';

export interface Services {
  agents: AgentService;
  topics: TopicService;
  documents: DocumentService;
  conversations: ConversationService;
  messages: MessageService;
  chat: ChatService;
  database: DatabaseService;
  providers: ProviderService;
  tokens: TokenService;
  search: SearchService;
  embeddings: EmbeddingService;
  /** Changes made by any process on the database, as they commit (`GET /api/events`). */
  events: ChangeFeed;
  runs: RunService;
}

export interface DanaContext {
  config: DanaConfig;
  knex: Knex;
  models: Models;
  files: FileStore;
  services: Services;
  close(): Promise<void>;
}

export interface ContextOptions {
  /**
   * Bring the schema up to date on open (the default). `dana db` turns it off to show
   * and apply migrations itself; services other than `database` then expect a current schema.
   */
  migrate?: boolean;
  /** The runners and retrievers agents may use (default: those Dana ships). */
  registry?: ChatRegistry;
  /** Where the core reports what happens in the background (embedding passages); default: stderr. */
  log?: EmbeddingLog;
  /** Passages per embeddings request, and how often a background filler looks for new passages. */
  embeddings?: { batchSize?: number; sweepIntervalMs?: number };
  /** How the change feed polls, waits at gaps and prunes (tests shorten them). */
  events?: ChangeFeedOptions;
}

function logToStderr(level: 'info' | 'warning', message: string): void {
  if (level === 'warning') process.stderr.write(`Warning: ${message}\n`);
}

/** Creates a folder (and its parents) `0700`; a file in the way is a setting to fix, said plainly. */
async function makePrivateFolder(dir: string, setting: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTDIR') throw error;
    let blocker = dir;
    while (code === 'ENOTDIR' && path.dirname(blocker) !== blocker && !(await fs.stat(blocker).catch(() => undefined))) blocker = path.dirname(blocker);
    throw ValidationError.field(['env', setting], `${blocker} is a file, not a folder; choose a folder`, 'config_error');
  }
}

export async function createContext(config: DanaConfig, options: ContextOptions = {}): Promise<DanaContext> {
  // Only the owner may enter: the database and uploads are private (existing folders keep their mode).
  await makePrivateFolder(config.dataDir, 'data folder (--data-dir, DANA_HOME)');
  await makePrivateFolder(config.uploadDir, 'upload folder (DANA_UPLOAD_DIR)');
  const database = openDatabase(config.database);
  const { sql } = database;
  try {
    const files = new FileStore(config.uploadDir, config.maxUploadBytes, config.maxUploadMb);
    if (options.migrate !== false) {
      // Usually one query says the schema is current; knex's migrator loads only when it is not.
      if ((await pendingMigrations(sql)).length) await migrateToLatest(database.knex);
    }
    // knex and the models are made on first use (the first write): reads need neither.
    let models: Models | undefined;
    const registry = options.registry ?? new ChatRegistry();
    const retrievers = registry.createRetrievers({ dialect: database.dialect, sql });
    const deps = {
      files,
      sql,
      index: new PassageIndex([...retrievers.values()]),
      get knex() {
        return database.knex;
      },
      get models() {
        models ??= bindModels(database.knex);
        return models;
      },
    };
    // Services that need more than `deps` get it on top, keeping its lazy getters.
    const extend = <T extends object>(extra: T) => Object.assign(Object.create(deps) as typeof deps, extra);
    const providers = new ProviderService(extend({ env: config.env, registry }));
    const embeddings = new EmbeddingService(extend({ providers, env: config.env, log: options.log ?? logToStderr, ...options.embeddings }));
    const documents = new DocumentService(extend({ config, onTextIndexed: () => embeddings.wake() }));
    const messages = new MessageService(deps);
    const chat = new ChatService(extend({ documents, messages, providers, registry, retrievers, embeddings, env: config.env }));
    const services: Services = {
      agents: new AgentService(extend({ providers, registry })),
      topics: new TopicService(deps),
      documents,
      conversations: new ConversationService(deps),
      messages,
      chat,
      database: new DatabaseService(extend({ config })),
      providers,
      tokens: new TokenService(deps),
      search: new SearchService(deps),
      embeddings,
      events: new ChangeFeed(extend({ dialect: database.dialect }), options.events),
      runs: new RunService(extend({ chat, documents, embeddings, leaseMs: leaseMsFrom(config.env) })),
    };
    if (options.migrate !== false) await documents.recover();
    let closed = false;
    return {
      config,
      get knex() {
        return deps.knex;
      },
      get models() {
        return deps.models;
      },
      files,
      services,
      async close() {
        if (closed) return;
        closed = true;
        await services.events.close();
        await embeddings.stop();
        await documents.close();
        await files.close();
        await database.release();
      },
    };
  } catch (error) {
    await database.release();
    throw error;
  }
}
