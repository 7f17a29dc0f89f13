import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { validate } from '@readme/openapi-parser';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { bodyOf, expectError } from '../helpers/api.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

const VERSION = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).version as string;
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** The src and href attribute values of an HTML page. */
function references(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']*)["']/gi)].map((match) => match[1]);
}

describe('web pages and server metadata', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  describe('health', () => {
    for (const urlPath of ['/health', '/api/health']) {
      it(`GET ${urlPath} answers {"status": "healthy", "service": "Dana API", "version": <package version>}`, async () => {
        const res = await server.api(urlPath);
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(/^application\/json/);
        expect(await bodyOf(res)).to.deep.equal({ status: 'healthy', service: 'Dana API', version: VERSION });
      });
    }
  });

  describe('the home page without a static folder', () => {
    it('is a built-in HTML page linking /docs and /health', async () => {
      const res = await server.api('/');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      const links = references(await res.text());
      expect(links).to.include.members(['/docs', '/health']);
    });

    it('gives a browser no SPA fallback: an unknown page stays 404', async () => {
      const res = await server.api('/library', { headers: { accept: BROWSER_ACCEPT } });
      expect(res.status).to.equal(404);
    });
  });

  describe('a web client served from a static folder', () => {
    let web: TestServer;
    const staticDir = tempDir('dana-static-');
    const INDEX = '<!doctype html><html><head><script type="module" src="/static/app.js"></script></head><body><div id="root">Dana web</div></body></html>\n';
    const APP_JS = 'console.log("dana web client");\n';
    before(async () => {
      fs.writeFileSync(path.join(staticDir, 'index.html'), INDEX);
      fs.writeFileSync(path.join(staticDir, 'app.js'), APP_JS);
      fs.mkdirSync(path.join(staticDir, 'assets'));
      fs.writeFileSync(path.join(staticDir, 'assets', 'style.css'), 'body { color: red; }\n');
      web = await startTestServer({}, { staticDir });
    });
    after(async () => {
      await web.close();
    });

    it('serves its index.html at / as text/html; charset=utf-8', async () => {
      const res = await web.api('/');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      expect(await res.text()).to.equal(INDEX);
    });

    it('serves /static/<path> from the folder with the content type of its extension', async () => {
      const js = await web.api('/static/app.js');
      expect(js.status).to.equal(200);
      expect(js.headers.get('content-type')).to.match(/^(application|text)\/javascript/);
      expect(await js.text()).to.equal(APP_JS);
      const css = await web.api('/static/assets/style.css');
      expect(css.status).to.equal(200);
      expect(css.headers.get('content-type')).to.match(/^text\/css/);
    });

    it('answers 404 for a static file that does not exist, even to a browser', async () => {
      expect((await web.api('/static/missing.js')).status).to.equal(404);
      expect((await web.api('/static/missing.js', { headers: { accept: BROWSER_ACCEPT } })).status).to.equal(404);
    });

    it('does not serve files outside the folder', async () => {
      const res = await web.api('/static/..%2f..%2f..%2fetc%2fpasswd');
      expect(res.status).to.be.oneOf([400, 403, 404]);
      expect(await res.text()).not.to.match(/root:/);
    });

    it('answers a browser asking for a client route with index.html (SPA fallback)', async () => {
      for (const route of ['/library', '/agents/create', '/conversations/7/settings']) {
        const res = await web.api(route, { headers: { accept: BROWSER_ACCEPT } });
        expect(res.status, route).to.equal(200);
        expect(res.headers.get('content-type'), route).to.equal('text/html; charset=utf-8');
        expect(await res.text(), route).to.equal(INDEX);
      }
    });

    it('still answers JSON under /api to a client that accepts HTML', async () => {
      const res = await web.api('/api/agents/', { headers: { accept: BROWSER_ACCEPT } });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      expect(await bodyOf(res)).to.deep.equal([]);
    });

    it('keeps an unknown /api route a 404 JSON error for a client that accepts HTML', async () => {
      await expectError(await web.api('/api/library', { headers: { accept: BROWSER_ACCEPT } }), 404, 'Not Found');
    });

    it('keeps /health, /docs and /openapi.json what they are for a browser', async () => {
      expect(await bodyOf(await web.api('/health', { headers: { accept: BROWSER_ACCEPT } }))).to.include({ status: 'healthy' });
      expect(await bodyOf(await web.api('/openapi.json', { headers: { accept: BROWSER_ACCEPT } }))).to.have.property('openapi');
      expect(await (await web.api('/docs', { headers: { accept: BROWSER_ACCEPT } })).text()).not.to.equal(INDEX);
    });
  });

  describe('the OpenAPI document', () => {
    let doc: any;
    before(async () => {
      const res = await server.api('/openapi.json');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      doc = await bodyOf(res);
    });

    /** The operation for a method and a path, whatever the parameter names and trailing slash. */
    const operation = (method: string, urlPath: string): any => {
      const wanted = urlPath.replace(/\{\w+\}/g, '{}').replace(/\/$/, '');
      const entry = Object.entries(doc.paths as Record<string, any>).find(([p]) => p.replace(/\{\w+\}/g, '{}').replace(/\/$/, '') === wanted);
      return entry?.[1]?.[method.toLowerCase()];
    };

    const CONTRACT_ROUTES: Array<[string, string]> = [
      ['GET', '/api/agents/'], ['POST', '/api/agents/'], ['GET', '/api/agents/{id}'], ['PUT', '/api/agents/{id}'],
      ['PATCH', '/api/agents/{id}'], ['DELETE', '/api/agents/{id}'],
      ['GET', '/api/topics/'], ['POST', '/api/topics/'], ['GET', '/api/topics/{id}'], ['PUT', '/api/topics/{id}'],
      ['PATCH', '/api/topics/{id}'], ['DELETE', '/api/topics/{id}'],
      ['GET', '/api/documents/'], ['POST', '/api/documents/upload'], ['POST', '/api/documents/'], ['GET', '/api/documents/{id}'],
      ['GET', '/api/documents/{id}/download'], ['PUT', '/api/documents/{id}'], ['PATCH', '/api/documents/{id}'], ['DELETE', '/api/documents/{id}'],
      ['GET', '/api/conversations/'], ['POST', '/api/conversations/'], ['GET', '/api/conversations/{id}'],
      ['PUT', '/api/conversations/{id}'], ['PATCH', '/api/conversations/{id}'], ['DELETE', '/api/conversations/{id}'],
      ['GET', '/api/conversations/{cid}/messages/'], ['POST', '/api/conversations/{cid}/messages/'],
      ['GET', '/api/conversations/{cid}/messages/{id}'], ['PUT', '/api/conversations/{cid}/messages/{id}'],
      ['PATCH', '/api/conversations/{cid}/messages/{id}'], ['DELETE', '/api/conversations/{cid}/messages/{id}'],
      ['GET', '/api/health'],
    ];

    it('is a valid OpenAPI 3.1 document', async () => {
      expect(doc.openapi).to.match(/^3\.1\./);
      const result = await validate(structuredClone(doc));
      expect(result.valid, JSON.stringify(result)).to.equal(true);
      expect(result.specification).to.equal('OpenAPI');
    });

    it('names the package version', () => {
      expect(doc.info.version).to.equal(VERSION);
    });

    it('lists every route of the contract', () => {
      const missing = CONTRACT_ROUTES.filter(([method, urlPath]) => !operation(method, urlPath)).map((route) => route.join(' '));
      expect(missing).to.deep.equal([]);
    });

    it('gives every POST, PUT and PATCH a request body', () => {
      const without = CONTRACT_ROUTES
        .filter(([method]) => ['POST', 'PUT', 'PATCH'].includes(method))
        .filter(([method, urlPath]) => !operation(method, urlPath)?.requestBody?.content)
        .map((route) => route.join(' '));
      expect(without).to.deep.equal([]);
    });

    it('describes uploads as multipart/form-data with a binary file field', () => {
      for (const urlPath of ['/api/documents/upload', '/api/documents/']) {
        const schema = operation('POST', urlPath).requestBody.content['multipart/form-data']?.schema;
        expect(schema, urlPath).to.be.an('object');
        expect(schema.properties.file).to.include({ type: 'string', format: 'binary' });
        expect(schema.required).to.include('file');
      }
    });

    it('describes JSON bodies with the schemas that validate them', () => {
      const schemaOf = (method: string, urlPath: string) => {
        const ref: string = operation(method, urlPath).requestBody.content['application/json'].schema.$ref;
        return doc.components.schemas[ref.split('/').pop() as string];
      };
      expect(schemaOf('POST', '/api/agents/').required).to.have.members(['name', 'description', 'config']);
      expect(schemaOf('POST', '/api/agents/').additionalProperties).to.equal(false);
      expect(schemaOf('POST', '/api/conversations/{cid}/messages/').required).to.have.members(['sender', 'content']);
      expect(schemaOf('PATCH', '/api/documents/{id}').properties).to.have.all.keys('original_filename', 'topic_id', 'agent_id');
    });

    it('documents creates as 201 and lists with X-Total-Count', () => {
      for (const urlPath of ['/api/agents/', '/api/topics/', '/api/documents/upload', '/api/conversations/', '/api/conversations/{cid}/messages/']) {
        expect(operation('POST', urlPath).responses, urlPath).to.have.property('201');
      }
      for (const urlPath of ['/api/agents/', '/api/topics/', '/api/documents/', '/api/conversations/', '/api/conversations/{cid}/messages/']) {
        expect(operation('GET', urlPath).responses['200'].headers, urlPath).to.have.property('X-Total-Count');
      }
    });
  });

  describe('the interactive API docs', () => {
    it('are an HTML page with no external http(s) URL in any src or href', async () => {
      const res = await server.api('/docs');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/html/);
      const links = references(await res.text());
      expect(links).not.to.be.empty;
      expect(links.filter((link) => /^(https?:)?\/\//i.test(link))).to.deep.equal([]);
    });

    it('load every script and stylesheet they reference from this server', async () => {
      const html = await (await server.api('/docs')).text();
      const assets = [
        ...[...html.matchAll(/<script\b[^>]*\bsrc\s*=\s*["']([^"']+)["']/gi)].map((match) => match[1]),
        ...[...html.matchAll(/<link\b[^>]*\bhref\s*=\s*["']([^"']+)["']/gi)].map((match) => match[1]),
      ];
      expect(assets.length).to.be.at.least(2);
      for (const asset of assets) {
        const res = await server.api(new URL(asset, `${server.url}/docs`).pathname);
        expect(res.status, asset).to.equal(200);
        expect((await res.arrayBuffer()).byteLength, asset).to.be.greaterThan(0);
      }
    });
  });
});
