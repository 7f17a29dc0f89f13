// Database rows as the API shows them, and the timestamps Dana writes. Plain functions with
// no ORM behind them: commands that only read never load knex or objection.
import type { Agent, Conversation, Document, Message, Source, Topic } from '../schemas.js';

type Row = Record<string, unknown>;

/**
 * A timestamp strictly after `previous` (and normally just "now"), so `updated_at` always
 * advances even when two writes land in the same millisecond or the clock steps back.
 */
export function nextTimestamp(previous?: string): string {
  const now = Date.now();
  const after = previous ? Date.parse(previous) + 1 : 0;
  return new Date(Math.max(now, after)).toISOString();
}

/** PostgreSQL hands back Date objects, SQLite the ISO text Dana wrote. */
export function isoTimestamp(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

function jsonObject(value: unknown): Record<string, unknown> {
  return (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown>;
}

function optionalId(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export function toAgent(row: Row): Agent {
  return {
    id: Number(row.id),
    name: row.name as string,
    description: row.description as string,
    config: jsonObject(row.config),
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
  };
}

export function toTopic(row: Row): Topic {
  return {
    id: Number(row.id),
    name: row.name as string,
    description: row.description as string,
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
  };
}

export function toDocument(row: Row): Document {
  return {
    id: Number(row.id),
    filename: row.filename as string,
    original_filename: row.original_filename as string,
    // PostgreSQL returns bigint columns as strings.
    file_size: Number(row.file_size),
    mime_type: row.mime_type as string,
    sha256: row.sha256 as string,
    text_status: row.text_status as Document['text_status'],
    text_error: (row.text_error ?? null) as string | null,
    topic_id: optionalId(row.topic_id),
    agent_id: optionalId(row.agent_id),
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
  };
}

export function toConversation(row: Row): Conversation {
  return {
    id: Number(row.id),
    title: row.title as string,
    agent_id: optionalId(row.agent_id),
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
  };
}

export function toMessage(row: Row): Message {
  return {
    id: Number(row.id),
    conversation_id: Number(row.conversation_id),
    sender: row.sender as string,
    content: row.content as string,
    sources: row.sources === null || row.sources === undefined ? null : (jsonObject(row.sources) as unknown as Source[]),
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
  };
}
