// /api/documents: multipart uploads, metadata, downloads.
import type { Services } from '../../core/context.js';
import {
  DeletedSchema, DocumentListQuerySchema, DocumentSchema, DocumentUpdateSchema, DocumentUploadFormSchema,
} from '../../core/schemas.js';
import { attachmentHeader } from '../attachment.js';
import { receiveUpload } from '../middleware/upload.js';
import type { Route } from './route.js';

const tag = 'documents';

export function documentRoutes({ documents }: Services): Route[] {
  const upload: Omit<Route, 'path'> = {
    methods: ['post'], tag, summary: 'Upload a document (.pdf .txt .md .json .csv .docx)', errors: [413, 415],
    description: 'multipart/form-data with the file in `file`; `topic_id` and `agent_id` are optional; other text fields are ignored.',
    multipart: { fileField: 'file', fields: DocumentUploadFormSchema },
    response: { kind: 'created', schema: DocumentSchema, location: ({ id }) => `/api/documents/${id}` },
    handle: ({ ctx }) => receiveUpload(ctx, documents),
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
