// The mask that keeps a provider's key out of replies, however the stream cuts it.
import { expect } from 'chai';
import { SecretMask } from '../../src/core/chat/secrets.js';
import { echoes } from '../helpers/fake-openai.js';

const KEY = 'sk-Test/Key+"quote"&=0123456789abcdef';

describe('the secret mask', () => {
  const text = `Before ${echoes(KEY)} after, with an emoji 🦓 and the key once more: ${KEY}.`;

  it('masks every spelling in a whole text', () => {
    const masked = new SecretMask(KEY).apply(text);
    expect(masked).to.not.include(KEY).and.not.include(KEY.toUpperCase()).and.not.include(encodeURIComponent(KEY));
    expect(masked).to.not.include(Buffer.from(KEY).toString('base64').slice(0, -4));
    expect(masked).to.include('Before raw *** | upper *** | url *** | json ***');
  });

  for (const size of [1, 2, 3, 5, 8, 13]) {
    it(`masks the key split across deltas of ${size} characters, adding up to the whole masked text`, () => {
      const mask = new SecretMask(KEY);
      const shown: string[] = [];
      for (let at = 0; at < text.length; at += size) shown.push(mask.push(text.slice(at, at + size)));
      shown.push(mask.flush());
      expect(shown.join('')).to.equal(new SecretMask(KEY).apply(text));
      for (const piece of shown) expect(piece.isWellFormed(), 'no surrogate pair split').to.equal(true);
    });
  }

  it('changes nothing without a key', () => {
    const mask = new SecretMask(undefined);
    expect(mask.push('sk-anything')).to.equal('sk-anything');
    expect(mask.flush()).to.equal('');
  });
});
