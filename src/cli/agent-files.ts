// Agent files (`agents export` / `agents apply`): YAML for .yaml/.yml, JSON otherwise. The
// yaml package is loaded only by these two commands.
import fs from 'node:fs';
import { ValidationError } from '../core/errors.js';

export function isYamlFile(file: string): boolean {
  return /\.ya?ml$/i.test(file);
}

/** `{name, description, config}` as the text of a file of that kind. */
export async function agentFileText(agent: { name: string; description: string; config: unknown }, yaml: boolean): Promise<string> {
  const fields = { name: agent.name, description: agent.description, config: agent.config };
  if (!yaml) return `${JSON.stringify(fields, null, 2)}\n`;
  const { stringify } = await import('yaml');
  return stringify(fields);
}

/** The agent a file describes; standard input (`-`) may be YAML or JSON (JSON is YAML). */
export async function readAgentFile(file: string, stdinText?: string): Promise<unknown> {
  let text = stdinText;
  if (text === undefined) {
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw ValidationError.field(['args', 'file'], `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 'file_error');
    }
  }
  if (file === '-' || isYamlFile(file)) {
    const { parse } = await import('yaml');
    try {
      return parse(text);
    } catch (error) {
      throw ValidationError.field(['args', 'file'], `${file} is not valid YAML (${(error as Error).message.split('\n')[0]})`, 'yaml_invalid');
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw ValidationError.field(['args', 'file'], `${file} is not valid JSON (${(error as Error).message})`, 'json_invalid');
  }
}
