// What `agents create` and `agents update` share: the agent's fields as flags, the body
// built from them, and what they say about a config beyond storing it.
import * as Flags from '@oclif/core/flags';
import { AGENT_CONFIG_KEYS } from '../core/schemas.js';
import { configFlags, definedOnly, readConfigFlags } from './flags.js';

/**
 * The agent's fields besides its name, as flags of both commands. A new agent field that
 * the CLI shows is one entry here: `agentBody` passes every plain flag through by name.
 */
export const agentFieldFlags = {
  description: Flags.string({ description: 'What the agent is for (create: default "").' }),
  ...configFlags,
};

/** The fields given on the command line, as an API body (absent flags left out). */
export function agentBody(flags: Record<string, unknown>): Record<string, unknown> {
  const plain = Object.keys(agentFieldFlags).filter((flag) => !(flag in configFlags));
  return definedOnly({
    name: flags.name,
    ...Object.fromEntries(plain.map((flag) => [flag.replaceAll('-', '_'), flags[flag]])),
    config: readConfigFlags(flags as { config?: string; 'config-file'?: string }),
  });
}

/** A warning on stderr for each config key Dana does not read: a typo is kept, not silently obeyed. */
export function warnUnreadConfigKeys(config: unknown, stderr: NodeJS.WritableStream): void {
  if (!config || typeof config !== 'object' || Array.isArray(config)) return;
  for (const key of Object.keys(config)) {
    if (!AGENT_CONFIG_KEYS.includes(key)) stderr.write(`Warning: config key ${JSON.stringify(key)} is not read by Dana (stored as given)\n`);
  }
}
