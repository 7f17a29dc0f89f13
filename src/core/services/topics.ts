// Topics group documents; names are unique.
import { NotFoundError } from '../errors.js';
import { validateBody, validateText } from '../validation.js';
import {
  TopicCreateSchema, TopicListQuerySchema, TopicUpdateSchema,
  type Deleted, type FilteredListQuery, type Page, type Topic, type TopicCreate, type TopicUpdate,
} from '../schemas.js';
import { deleted, findOr404,  readById, readPage, trimFields, type ServiceDeps } from './support.js';
import { TABLES } from '../db/tables.js';

export class TopicService {
  constructor(private readonly deps: ServiceDeps) {}

  async list(query: Record<string, unknown> = {}): Promise<Page<Topic>> {
    return readPage(this.deps.sql, TABLES.topics, {}, validateText<FilteredListQuery>(TopicListQuerySchema, query));
  }

  async get(id: number): Promise<Topic> {
    return readById(this.deps.sql, TABLES.topics, id);
  }

  async create(input: unknown): Promise<Topic> {
    const data = validateBody<TopicCreate>(TopicCreateSchema, trimFields(input, ['name']));
    // The unique index decides, so two writers racing for one name get one 201 and one 409.
    return this.deps.models.Topic.insertRow(data);
  }

  async update(id: number, input: unknown): Promise<Topic> {
    const changes = validateBody<TopicUpdate>(TopicUpdateSchema, trimFields(input, ['name']));
    return this.deps.knex.transaction(async (trx) => {
      const topic = await findOr404(this.deps.models.Topic.query(trx).findById(id), 'Topic');
      return topic.patchRow(changes, trx);
    });
  }

  /** Its documents stay, detached (topic_id becomes null). */
  async delete(id: number): Promise<Deleted> {
    const count = await this.deps.models.Topic.query().deleteById(id);
    if (!count) throw new NotFoundError('Topic not found');
    return deleted('Topic');
  }
}
