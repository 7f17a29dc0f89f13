// The table columns of each resource in human output.
import type { Agent, Conversation, Document, Message, Run, SearchResult, Topic } from '../core/schemas.js';
import { formatBytes, formatTimestamp, type Column } from './output.js';

export const AGENT_COLUMNS: Array<Column<Agent>> = [
  { header: 'ID', get: (a) => a.id },
  { header: 'NAME', get: (a) => a.name, flexible: true },
  { header: 'DESCRIPTION', get: (a) => a.description, maxWidth: 50, flexible: true },
  { header: 'UPDATED', get: (a) => formatTimestamp(a.updated_at) },
];

export const TOPIC_COLUMNS: Array<Column<Topic>> = [
  { header: 'ID', get: (t) => t.id },
  { header: 'NAME', get: (t) => t.name, flexible: true },
  { header: 'DESCRIPTION', get: (t) => t.description, maxWidth: 50, flexible: true },
  { header: 'UPDATED', get: (t) => formatTimestamp(t.updated_at) },
];

export const DOCUMENT_COLUMNS: Array<Column<Document>> = [
  { header: 'ID', get: (d) => d.id },
  { header: 'NAME', get: (d) => d.original_filename, maxWidth: 50, flexible: true },
  { header: 'SIZE', get: (d) => formatBytes(d.file_size) },
  { header: 'TYPE', get: (d) => d.mime_type.replace('application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'docx') },
  { header: 'TOPIC', get: (d) => d.topic_id },
  { header: 'AGENT', get: (d) => d.agent_id },
  { header: 'CREATED', get: (d) => formatTimestamp(d.created_at) },
];

export const CONVERSATION_COLUMNS: Array<Column<Conversation>> = [
  { header: 'ID', get: (c) => c.id },
  { header: 'TITLE', get: (c) => c.title, maxWidth: 60, flexible: true },
  { header: 'AGENT', get: (c) => c.agent_id },
  { header: 'UPDATED', get: (c) => formatTimestamp(c.updated_at) },
];

export const MESSAGE_COLUMNS: Array<Column<Message>> = [
  { header: 'ID', get: (m) => m.id },
  { header: 'SENDER', get: (m) => m.sender },
  { header: 'CONTENT', get: (m) => m.content, maxWidth: 70, flexible: true },
  { header: 'CREATED', get: (m) => formatTimestamp(m.created_at) },
];

export const SEARCH_COLUMNS: Array<Column<SearchResult>> = [
  { header: 'KIND', get: (r) => r.kind },
  // Where to go next: `dana docs get ID`, or the conversation and its message.
  { header: 'WHERE', get: (r) => (r.kind === 'document' ? `doc ${r.document_id}` : `conv ${r.conversation_id} msg ${r.message_id}`) },
  { header: 'TITLE', get: (r) => r.title, maxWidth: 30, flexible: true },
  { header: 'SNIPPET', get: (r) => r.snippet, maxWidth: 80, flexible: true },
];

export const RUN_COLUMNS: Array<Column<Run>> = [
  { header: 'ID', get: (r) => r.id },
  { header: 'AGENT', get: (r) => r.agent_id },
  { header: 'STATUS', get: (r) => r.status },
  { header: 'DONE', get: (r) => `${r.done}/${r.total}` },
  { header: 'INPUT', get: (r) => r.input, maxWidth: 60, flexible: true },
  { header: 'CREATED', get: (r) => formatTimestamp(r.created_at) },
];
