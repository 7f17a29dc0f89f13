// /api/documents: multipart uploads, metadata, downloads.
import type { Services } from '../../core/context.js';
import { ValidationError } from '../../core/errors.js';
import {
  DeletedSchema, DocumentListQuerySchema, DocumentSchema, DocumentUpdateSchema, DocumentUploadFormSchema,
} from '../../core/schemas.js';
import { attachmentHeader } from '../attachment.js';
import { receivedFiles, uploadParser } from '../middleware/upload.js';
import type { Route } from './route.js';

const tag = 'documents';

export function documentRoutes({ documents }: Services): Route[] {
  const upload: Omit<Route, 'path'> = {
    methods: ['post'], tag, summary: 'Upload a document (.pdf .txt .md .json .csv .docx)', errors: [413, 415],
    description: 'multipart/form-data with the file in `file`; `topic_id` and `agent_id` are optional; other text fields are ignored.',
    multipart: { fileField: 'file', fields: DocumentUploadFormSchema },
    before: [uploadParser(documents)],
    response: { kind: 'created', schema: DocumentSchema, location: ({ id }) => `/api/documents/${id}` },
    async handle({ ctx }) {
      const [file, ...extra] = receivedFiles(ctx);
      await Promise.all(extra.map((other) => other.staged && documents.discardStaged(other.staged)));
      if (!file?.staged) throw ValidationError.field(['form', 'file'], 'Field required', 'missing');
      if (extra.length) {
        await documents.discardStaged(file.staged);
        throw ValidationError.field(['form', 'file'], 'Send one file per request', 'too_long');
      }
      return documents.commit(file.staged, (ctx.request as { body?: Record<string, unknown> }).body ?? {});
    },
  };

  return [
    {
      methods: ['get'], path: '/documents/', tag, summary: 'List documents, optionally of one topic or agent',
      query: DocumentListQuerySchema, response: { kind: 'page', schema: DocumentSchema },
      handle: ({ query }) => documents.list(query),
    },
    { ...upload, path: '/documents/upload' },
    { ...upload, path: '/documents/', summary: 'Upload a document (same as /documents/upload)' },
    {
      methods: ['get'], path: '/documents/{id}', tag, summary: 'Get a document\'s metadata',
      response: { kind: 'json', schema: DocumentSchema },
      handle: ({ params }) => documents.get(params.id),
    },
    {
      methods: ['get'], path: '/documents/{id}/download', tag, summary: 'Download the exact bytes uploaded',
      response: {
        kind: 'custom',
        description: 'The exact bytes uploaded, with Content-Type from the extension and Content-Disposition: attachment',
        content: { 'application/octet-stream': { type: 'string', format: 'binary' } },
      },
      async handle({ params, ctx }) {
        const { document, stream, size } = await documents.download(params.id);
        ctx.set('Content-Type', document.mime_type);
        ctx.set('Content-Disposition', attachmentHeader(document.original_filename || document.filename));
        ctx.set('X-Content-Type-Options', 'nosniff');
        ctx.body = stream;
        ctx.length = size;
      },
    },
    {
      methods: ['put', 'patch'], path: '/documents/{id}', tag, summary: 'Rename a document or change its topic or agent (null detaches)',
      body: DocumentUpdateSchema, response: { kind: 'json', schema: DocumentSchema },
      handle: ({ params, body }) => documents.update(params.id, body),
    },
    {
      methods: ['delete'], path: '/documents/{id}', tag, summary: 'Delete a document and its file',
      response: { kind: 'json', schema: DeletedSchema },
      handle: ({ params }) => documents.delete(params.id),
    },
  ];
}
