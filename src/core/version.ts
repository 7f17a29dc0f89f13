// The package version, reported by `dana --version`, /health and the OpenAPI document.
import { createRequire } from 'node:module';

// Both src/core and dist/core sit two folders below package.json.
export const VERSION: string = createRequire(import.meta.url)('../../package.json').version;
