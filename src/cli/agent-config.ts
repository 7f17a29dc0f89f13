// What `agents create` and `agents update` say about a config beyond storing it.
import { AGENT_CONFIG_KEYS } from '../core/schemas.js';

/** A warning on stderr for each config key Dana does not read: a typo is kept, not silently obeyed. */
export function warnUnreadConfigKeys(config: unknown, stderr: NodeJS.WritableStream): void {
  if (!config || typeof config !== 'object' || Array.isArray(config)) return;
  for (const key of Object.keys(config)) {
    if (!AGENT_CONFIG_KEYS.includes(key)) stderr.write(`Warning: config key ${JSON.stringify(key)} is not read by Dana (stored as given)\n`);
  }
}
