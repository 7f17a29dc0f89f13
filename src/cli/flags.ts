// Flags several commands share, and the parsing of values the API takes as JSON.
import fs from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ValidationError } from '../core/errors.js';

export const idArg = (name: string) => Args.integer({ description: `${name} id`, required: true, min: 1 });

export const pagingFlags = {
  skip: Flags.integer({ description: 'Rows to skip.', default: 0 }),
  limit: Flags.integer({ description: 'Rows to show (1 to 1000).', default: 100 }),
};

/** Every list command's flags: a page, text to look for, an order, or every page at once. */
export const listFlags = {
  ...pagingFlags,
  search: Flags.string({ description: 'Only rows whose name, title, file name or content contains this text (case-insensitive).' }),
  sort: Flags.string({ description: 'Sort by id, created_at, updated_at or the name-like column (name, title, original_filename); a leading - sorts descending.', default: 'id' }),
  all: Flags.boolean({ description: 'Every row, page after page (--limit is ignored).', default: false }),
};

export const conversationFlag = Flags.integer({
  description: 'Id of the conversation the messages belong to.',
  required: true,
  aliases: ['conversation-id'],
  min: 1,
});

/** `--topic 3` links, `--topic none` detaches (null), no flag leaves it alone. */
export function parseOptionalReference(value: string | undefined, flag: string): number | null | undefined {
  if (value === undefined) return undefined;
  if (value.toLowerCase() === 'none') return null;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw ValidationError.field(['body', flag], `expected a positive integer id or "none", got "${value}"`, 'int_parsing');
  }
  return Number(value);
}

/** The agent config from `--config JSON` or `--config-file PATH`; undefined when neither is given. */
export function readConfigFlags(flags: { config?: string; 'config-file'?: string }): unknown {
  let text = flags.config;
  let source = 'config';
  if (flags['config-file'] !== undefined) {
    source = 'config-file';
    try {
      text = fs.readFileSync(flags['config-file'], 'utf8');
    } catch (error) {
      throw ValidationError.field(['body', 'config-file'], `cannot read ${flags['config-file']} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 'file_error');
    }
  }
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw ValidationError.field(['body', source], `not valid JSON (${(error as Error).message})`, 'json_invalid');
  }
}

export const configFlags = {
  config: Flags.string({ description: 'Agent config as a JSON object, e.g. \'{"provider":"local"}\'.', exclusive: ['config-file'] }),
  'config-file': Flags.string({ description: 'Read the agent config from a JSON file.', exclusive: ['config'] }),
};

/** The flags that were given, as a partial update body. */
export function definedOnly<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>;
}
