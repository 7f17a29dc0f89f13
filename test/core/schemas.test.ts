import { expect } from 'chai';
import { Ajv } from 'ajv';
import * as schemas from '../../src/core/schemas.js';

// Dana compiles its schemas without checking them against the meta-schema (CLI start-up
// time); this is where they are checked.
describe('JSON Schemas', () => {
  const entries = Object.entries(schemas).filter(([name]) => name.endsWith('Schema')) as Array<[string, { $id: string }]>;

  it('are valid JSON Schemas that ajv compiles in strict mode', () => {
    for (const [name, schema] of entries) {
      // One compiler each: response shapes embed others (a conversation holds messages).
      const ajv = new Ajv({ allErrors: true, strict: true });
      ajv.addFormat('date-time', true);
      expect(ajv.validateSchema(schema), `${name}: ${ajv.errorsText()}`).to.equal(true);
      expect(() => ajv.compile(schema), name).not.to.throw();
    }
  });

  it('each have a unique $id', () => {
    const ids = entries.map(([, schema]) => schema.$id);
    expect(new Set(ids).size).to.equal(ids.length);
  });
});
