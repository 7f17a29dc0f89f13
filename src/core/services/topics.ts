// Topics group documents; names are unique.
import { ConflictError, NotFoundError } from '../errors.js';
import { isUniqueViolation } from '../db/dialects.js';
import { validateBody, validateText } from '../validation.js';
import {
  ListQuerySchema, TopicCreateSchema, TopicUpdateSchema,
  type Deleted, type ListQuery, type Page, type Topic, type TopicCreate, type TopicUpdate,
} from '../schemas.js';
import { deleted, findOr404, insertRow, readById, readPage, trimFields, type ServiceDeps } from './support.js';
import { nextTimestamp, toTopic } from '../db/rows.js';

export class TopicService {
  constructor(private readonly deps: ServiceDeps) {}


  async list(query: Record<string, unknown> = {}): Promise<Page<Topic>> {
    const paging = validateText<ListQuery>(ListQuerySchema, query);
    return readPage(this.deps.sql, 'topics', {}, paging, toTopic);
  }

  async get(id: number): Promise<Topic> {
    return readById(this.deps.sql, 'topics', id, 'Topic', toTopic);
  }

  async create(input: unknown): Promise<Topic> {
    const data = validateBody<TopicCreate>(TopicCreateSchema, trimFields(input, ['name']));
    const now = nextTimestamp();
    const values = { name: data.name, description: data.description, created_at: now, updated_at: now };
    return withUniqueName(data.name, async () => toTopic(await insertRow(this.deps.sql, 'topics', values)));
  }

  async update(id: number, input: unknown): Promise<Topic> {
    const changes = validateBody<TopicUpdate>(TopicUpdateSchema, trimFields(input, ['name']));
    return withUniqueName(changes.name, () =>
      this.deps.knex.transaction(async (trx) => {
        const topic = await findOr404(this.deps.models.Topic.query(trx).findById(id), 'Topic');
        return (await topic.$query(trx).patchAndFetch(changes)).toApi();
      }),
    );
  }

  /** Its documents stay, detached (topic_id becomes null). */
  async delete(id: number): Promise<Deleted> {
    const count = await this.deps.models.Topic.query().deleteById(id);
    if (!count) throw new NotFoundError('Topic not found');
    return deleted('Topic');
  }
}

/** The unique index decides, so two writers racing for one name get one 201 and one 409. */
async function withUniqueName<T>(name: string | undefined, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`Topic '${name}' already exists`);
    throw error;
  }
}
