// `dana --help` and `dana <topic> --help` with examples, not only the list of commands;
// example commands that break only between shell words, so a pasted example still runs.
import { CommandHelp, Help, toConfiguredId, toStandardizedId, type Command, type Interfaces } from '@oclif/core';

const ROOT_EXAMPLES = [
  ['Create an agent and give it a document', 'dana agents create --name Researcher', 'dana docs upload paper.pdf --agent 1'],
  ['Ask it something (offline, from its documents)', 'dana chat --agent 1 -m "What does the paper conclude?"'],
  ['Script with JSON', 'dana agents list --json | jq ".[].name"'],
  ['Serve the REST API and web client', 'dana serve --port 8080'],
];

export default class DanaHelp extends Help {
  protected override getCommandHelpClass(command: Command.Loadable): CommandHelp {
    return new DanaCommandHelp(command, this.config, this.opts);
  }

  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp();
    const body = ROOT_EXAMPLES.map(([title, ...commands]) => `${title}\n${commands.map((c) => `  $ ${c}`).join('\n')}`).join('\n\n');
    this.log(this.section('EXAMPLES', body));
    this.log('');
  }

  protected override async showTopicHelp(topic: Interfaces.Topic): Promise<void> {
    await super.showTopicHelp(topic);
    const examples = this.sortedCommands
      .filter((command) => toStandardizedId(command.id, this.config).startsWith(`${topic.name}:`))
      .map((command) => {
        const example = firstExampleCommand(command.examples);
        const id = toConfiguredId(toStandardizedId(command.id, this.config), this.config);
        return example && `$ ${example.replace('<%= config.bin %>', this.config.bin).replace('<%= command.id %>', id)}`;
      })
      .filter((example): example is string => Boolean(example));
    if (examples.length) {
      this.log(this.section('EXAMPLES', examples.join('\n')));
      this.log('');
    }
  }
}

function firstExampleCommand(examples: Command.Loadable['examples']): string | undefined {
  const first = examples?.[0];
  if (!first) return undefined;
  const text = typeof first === 'string' ? first : first.command;
  return text.split('\n').find((line: string) => line.startsWith('<%= config.bin %>'));
}

/**
 * oclif wraps a long example command anywhere, even inside a quoted JSON config or a URL, so
 * the pasted command fails. Here a command breaks only between shell words (quotes kept
 * whole), each break a ` \` continuation; a word longer than the line stays whole.
 */
class DanaCommandHelp extends CommandHelp {
  protected override examples(examples: Command.Example[] | string | undefined): string | undefined {
    if (!examples || examples.length === 0) return undefined;
    const list = typeof examples === 'string' ? [examples] : examples;
    return list
      .map((example) => {
        const { description, commands } = typeof example === 'string' ? splitExample(example, this.config.bin) : { description: example.description, commands: [example.command] };
        const shown = commands.map((command) => wrapShellWords(`$ ${this.render(command)}`, this.opts.maxWidth - 8).join(' \\\n    ')).join('\n');
        return description ? `${this.wrap(description, 4)}\n\n${this.indent(shown, 2)}` : shown;
      })
      .join('\n\n');
  }
}

/** `description\ncommand…` or a bare command (oclif's own convention for string examples). */
function splitExample(example: string, bin: string): { description?: string; commands: string[] } {
  const lines = example.split('\n').filter(Boolean);
  const isCommand = (line: string) => line.startsWith('<%= config.bin %>') || line.startsWith(bin) || line.startsWith(`$ ${bin}`);
  if (lines.length >= 2 && !isCommand(lines[0])) return { description: lines[0], commands: lines.slice(1) };
  return { commands: lines };
}

/** Lines of at most `width` columns, broken only between shell words. */
export function wrapShellWords(command: string, width: number): string[] {
  const words = command.match(/(?:[^\s'"]+|'[^']*'|"(?:[^"\\]|\\.)*")+/g) ?? [];
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line && line.length + 1 + word.length + 2 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
