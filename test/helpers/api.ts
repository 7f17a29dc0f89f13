// What a client of the REST API checks on a response, and shortcuts that create the records
// a test needs through the API itself.
import { expect } from 'chai';
import { json, type TestServer } from './server.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

export const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The response's JSON body, after checking it is JSON. */
export async function bodyOf(res: Response): Promise<any> {
  expect(res.headers.get('content-type'), `content type of ${res.url}`).to.match(/^application\/json/);
  return res.json();
}

/** Expects `status` and exactly `{"detail": detail}`. */
export async function expectError(res: Response, status: number, detail: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).to.equal(status);
  expect(res.headers.get('content-type')).to.match(/^application\/json/);
  expect(JSON.parse(text)).to.deep.equal({ detail });
}

export interface Issue {
  loc: Array<string | number>;
  msg: string;
  type: string;
}

/** Expects a 422 whose issues are well-formed, and returns them. */
export async function validationIssues(res: Response): Promise<Issue[]> {
  const text = await res.text();
  expect(res.status, text).to.equal(422);
  expect(res.headers.get('content-type')).to.match(/^application\/json/);
  const body = JSON.parse(text);
  expect(body).to.have.all.keys('detail');
  expect(body.detail).to.be.an('array').that.is.not.empty;
  for (const issue of body.detail) {
    expect(issue).to.have.all.keys('loc', 'msg', 'type');
    expect(issue.loc).to.be.an('array');
    expect(['body', 'query', 'path', 'form']).to.include(issue.loc[0]);
    expect(issue.msg).to.be.a('string').that.is.not.empty;
    expect(issue.type).to.be.a('string').that.is.not.empty;
  }
  return body.detail;
}

/** Expects a 422 naming exactly these locations (in any order). */
export async function expectLocs(res: Response, ...locs: Array<Array<string | number>>): Promise<Issue[]> {
  const issues = await validationIssues(res);
  expect(issues.map((issue) => issue.loc)).to.have.deep.members(locs);
  return issues;
}

/** Expects a 201 with a Location that answers 200 with the same record; returns the record. */
export async function expectCreated(server: TestServer, res: Response): Promise<any> {
  const text = await res.text();
  expect(res.status, text).to.equal(201);
  const created = JSON.parse(text);
  const location = res.headers.get('location');
  expect(location, 'Location header').to.be.a('string');
  const again = await server.api(location as string);
  expect(again.status).to.equal(200);
  const fetched = await bodyOf(again);
  for (const [key, value] of Object.entries(created)) expect(fetched[key], key).to.deep.equal(value);
  return created;
}

export async function createAgent(server: TestServer, fields: Record<string, unknown> = {}): Promise<any> {
  const res = await server.api('/api/agents/', json('POST', { name: 'Agent', description: '', config: {}, ...fields }));
  expect(res.status, await res.clone().text()).to.equal(201);
  return res.json();
}

export async function createTopic(server: TestServer, fields: Record<string, unknown> = {}): Promise<any> {
  const res = await server.api('/api/topics/', json('POST', { name: `Topic ${Math.random().toString(36).slice(2)}`, description: '', ...fields }));
  expect(res.status, await res.clone().text()).to.equal(201);
  return res.json();
}

export async function createConversation(server: TestServer, fields: Record<string, unknown> = {}): Promise<any> {
  const res = await server.api('/api/conversations/', json('POST', { title: 'Talk', ...fields }));
  expect(res.status, await res.clone().text()).to.equal(201);
  return res.json();
}

export async function createMessage(server: TestServer, conversationId: number, fields: Record<string, unknown> = {}): Promise<any> {
  const res = await server.api(`/api/conversations/${conversationId}/messages/`, json('POST', { sender: 'user', content: 'hello', ...fields }));
  expect(res.status, await res.clone().text()).to.equal(201);
  return res.json();
}

/** POSTs a file as multipart/form-data the way fetch/browsers build it. */
export function postFile(
  server: TestServer,
  filename: string,
  bytes: Buffer | string,
  fields: Record<string, string> = {},
  options: { path?: string; fieldName?: string; type?: string } = {},
): Promise<Response> {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  form.append(options.fieldName ?? 'file', new Blob([Buffer.from(bytes)], { type: options.type ?? 'application/octet-stream' }), filename);
  return server.api(options.path ?? '/api/documents/upload', { method: 'POST', body: form });
}

export async function uploadDocument(server: TestServer, filename = 'notes.txt', bytes: Buffer | string = 'hello', fields: Record<string, string> = {}): Promise<any> {
  const res = await postFile(server, filename, bytes, fields);
  expect(res.status, await res.clone().text()).to.equal(201);
  return res.json();
}

/** Whether ISO timestamp `later` is strictly after `earlier`. */
export function isLater(later: string, earlier: string): boolean {
  return Date.parse(later) > Date.parse(earlier);
}
