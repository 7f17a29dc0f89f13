// Root hooks of the PostgreSQL pass: start from a clean database, leave it clean.
import { closeAdminConnection, dropLeftoverSchemas } from './backend.js';

export const mochaHooks = {
  async beforeAll() {
    await dropLeftoverSchemas();
  },
  async afterAll() {
    await dropLeftoverSchemas();
    await closeAdminConnection();
  },
};
