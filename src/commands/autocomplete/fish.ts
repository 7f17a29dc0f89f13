// Completion for fish, which @oclif/plugin-autocomplete (bash, zsh, PowerShell) does not
// cover: the same commands, flags and descriptions, written as fish `complete` lines from
// the loaded command manifest.
import { Command } from '@oclif/core/command';

export default class AutocompleteFish extends Command {
  static override summary = 'Print the completion script for fish.';
  static override description = 'Save it where fish looks for completions; it lists the commands, their flags and descriptions.';
  static override examples = ['<%= config.bin %> <%= command.id %> > ~/.config/fish/completions/<%= config.bin %>.fish'];

  async run(): Promise<void> {
    const bin = this.config.bin;
    const quote = (text = '') => `'${text.split('\n')[0].replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
    const lines = [`# ${bin} completion for fish (${bin} autocomplete fish > ~/.config/fish/completions/${bin}.fish)`, `complete -c ${bin} -f`];
    const commands = this.config.commands.filter((command) => !command.hidden);
    const topics = new Map<string, string>();
    for (const topic of this.config.topics) if (!topic.name.includes(':') && !topic.hidden) topics.set(topic.name, topic.description ?? '');
    for (const command of commands) if (!command.id.includes(':')) topics.set(command.id, command.summary ?? command.description ?? '');
    for (const [name, description] of topics) lines.push(`complete -c ${bin} -n __fish_use_subcommand -a ${name} -d ${quote(description)}`);
    for (const command of commands) {
      const words = command.id.split(':');
      const [topic, verb] = words;
      let condition = `__fish_seen_subcommand_from ${topic}`;
      if (verb) {
        const siblings = commands.filter((other) => other.id.startsWith(`${topic}:`)).map((other) => other.id.split(':')[1]);
        lines.push(`complete -c ${bin} -n '${condition}; and not __fish_seen_subcommand_from ${[...new Set(siblings)].join(' ')}' -a ${verb} -d ${quote(command.summary ?? command.description)}`);
        condition += `; and __fish_seen_subcommand_from ${verb}`;
      }
      for (const [name, flag] of Object.entries(command.flags)) {
        if (flag.hidden) continue;
        const short = flag.char ? ` -s ${flag.char}` : '';
        const value = flag.type === 'option' ? ' -r' : '';
        lines.push(`complete -c ${bin} -n '${condition}' -l ${name}${short}${value} -d ${quote(flag.summary ?? flag.description)}`);
      }
    }
    this.log(lines.join('\n'));
  }
}
