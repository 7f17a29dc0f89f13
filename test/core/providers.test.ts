// The provider service: the built-ins, names, URLs, the one default, and what may change.
import { expect } from 'chai';
import { ConflictError, NotFoundError, ValidationError } from '../../src/core/errors.js';
import { openTestContext, type TestContext } from '../helpers/context.js';
import { rejectionOf } from '../helpers/chat.js';

describe('model providers', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await openTestContext({ OPENAI_API_KEY: 'sk-set', OLLAMA_KEY: '' });
  });
  afterEach(() => ctx.close());

  const names = async () => (await ctx.services.providers.list()).items.map((provider) => provider.name);
  const defaultName = async () => (await ctx.services.providers.list()).items.filter((provider) => provider.is_default).map((p) => p.name);

  it('always has "local" (the default, offline) and "openai", saying whether its key is set', async () => {
    expect((await ctx.services.providers.list()).items).to.deep.equal([
      { name: 'local', base_url: null, api_key_env: null, has_key: false, model: null, embedding_model: null, is_default: true },
      { name: 'openai', base_url: 'https://api.openai.com/v1', api_key_env: 'OPENAI_API_KEY', has_key: true, model: 'gpt-4o-mini', embedding_model: null, is_default: false },
    ]);
  });

  it('adds a provider, shown after the built-ins, with has_key false for an empty variable', async () => {
    const added = await ctx.services.providers.add({ name: 'ollama', base_url: 'http://127.0.0.1:11434/v1', api_key_env: 'OLLAMA_KEY', model: 'llama3.2' });
    expect(added).to.deep.equal({ name: 'ollama', base_url: 'http://127.0.0.1:11434/v1', api_key_env: 'OLLAMA_KEY', has_key: false, model: 'llama3.2', embedding_model: null, is_default: false });
    expect(await names()).to.deep.equal(['local', 'openai', 'ollama']);
  });

  for (const name of ['', 'Ollama', 'a b', 'x'.repeat(51), 'é']) {
    it(`refuses the name ${JSON.stringify(name)}`, async () => {
      expect(await rejectionOf(ctx.services.providers.add({ name, base_url: 'http://127.0.0.1:1/v1' }))).to.be.instanceOf(ValidationError);
    });
  }

  for (const url of ['not a url', 'ftp://example.com/v1', 'http://user:secret@example.com/v1']) {
    it(`refuses the base URL ${url}`, async () => {
      const error = await rejectionOf(ctx.services.providers.add({ name: 'x', base_url: url }));
      expect((error as unknown as ValidationError).issues[0].loc).to.deep.equal(['body', 'base_url']);
    });
  }

  it('refuses a duplicate name and the names of the built-ins (conflict)', async () => {
    await ctx.services.providers.add({ name: 'x', base_url: 'http://127.0.0.1:1/v1' });
    expect(await rejectionOf(ctx.services.providers.add({ name: 'x', base_url: 'http://127.0.0.1:2/v1' }))).to.be.instanceOf(ConflictError);
    expect(await rejectionOf(ctx.services.providers.add({ name: 'openai', base_url: 'http://127.0.0.1:2/v1' }))).to.be.instanceOf(ConflictError);
  });

  it('keeps exactly one default: the last one marked, else "local"', async () => {
    await ctx.services.providers.add({ name: 'a', base_url: 'http://127.0.0.1:1/v1', is_default: true });
    expect(await defaultName()).to.deep.equal(['a']);
    await ctx.services.providers.update('openai', { is_default: true });
    expect(await defaultName()).to.deep.equal(['openai']);
    await ctx.services.providers.update('openai', { is_default: false });
    expect(await defaultName()).to.deep.equal(['local']);
  });

  it('lets "openai" take another model but not another URL or key variable', async () => {
    expect((await ctx.services.providers.update('openai', { model: 'gpt-4.1' })).model).to.equal('gpt-4.1');
    for (const change of [{ base_url: 'http://127.0.0.1:1/v1' }, { api_key_env: 'OTHER' }]) {
      expect(await rejectionOf(ctx.services.providers.update('openai', change))).to.be.instanceOf(ValidationError);
    }
    expect(await rejectionOf(ctx.services.providers.update('local', { model: 'm' }))).to.be.instanceOf(ValidationError);
    expect((await ctx.services.providers.get('openai')).base_url).to.equal('https://api.openai.com/v1');
  });

  it('changes only the fields given', async () => {
    await ctx.services.providers.add({ name: 'x', base_url: 'http://127.0.0.1:1/v1', api_key_env: 'X_KEY', model: 'm' });
    expect(await ctx.services.providers.update('x', { base_url: 'http://127.0.0.1:2/v1' })).to.include({ base_url: 'http://127.0.0.1:2/v1', api_key_env: 'X_KEY', model: 'm' });
  });

  it('removes what was added, never a built-in; an unknown name is not found', async () => {
    await ctx.services.providers.add({ name: 'x', base_url: 'http://127.0.0.1:1/v1' });
    await ctx.services.providers.remove('x');
    expect(await names()).to.deep.equal(['local', 'openai']);
    expect(await rejectionOf(ctx.services.providers.remove('x'))).to.be.instanceOf(NotFoundError);
    expect(await rejectionOf(ctx.services.providers.remove('openai'))).to.be.instanceOf(ConflictError);
    expect(await rejectionOf(ctx.services.providers.remove('local'))).to.be.instanceOf(ConflictError);
  });
});
