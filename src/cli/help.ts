// `dana --help` and `dana <topic> --help` with examples, not only the list of commands.
import { Help, toConfiguredId, toStandardizedId, type Command, type Interfaces } from '@oclif/core';

const ROOT_EXAMPLES = [
  ['Create an agent and give it a document', 'dana agents create --name Researcher', 'dana docs upload paper.pdf --agent 1'],
  ['Ask it something (offline, from its documents)', 'dana chat --agent 1 -m "What does the paper conclude?"'],
  ['Script with JSON', 'dana agents list --json | jq ".[].name"'],
  ['Serve the REST API and web client', 'dana serve --port 8080'],
];

export default class DanaHelp extends Help {
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
