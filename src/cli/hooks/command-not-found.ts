// An unknown command is a usage error (exit code 2, one line). Three cases:
// - words after a command that takes none (`dana agents list extra`: oclif reads the extra
//   word as part of the command's name): say which argument was not expected;
// - on a terminal, @oclif/plugin-not-found's own "Did you mean …?" prompt, which runs the
//   suggestion when the user accepts it (its refusal exits 2, not the plugin's 127);
// - elsewhere (scripts, pipes), the nearest command in the message, never a prompt.
import type { Hook } from '@oclif/core';
import { closestWord } from '../suggest.js';

const hook: Hook<'command_not_found'> = async function (options) {
  const { config } = options;
  const words = options.id.split(':');
  const fail = (message: string): never => {
    process.stderr.write(`Error: ${message}\n`);
    this.exit(2);
    throw new Error('unreachable: exit throws');
  };

  for (let length = words.length - 1; length > 0; length--) {
    const command = config.findCommand(words.slice(0, length).join(':'));
    if (!command) continue;
    const name = `${config.bin} ${words.slice(0, length).join(' ')}`;
    const extra = words.slice(length);
    const takes = Object.keys(command.args ?? {}).length ? 'does not take these arguments' : 'takes no arguments';
    return fail(`Unexpected argument${extra.length > 1 ? 's' : ''} "${extra.join(' ')}": "${name}" ${takes}. See "${name} --help".`);
  }

  if (process.stdin.isTTY && process.stderr.isTTY) {
    const { default: pluginNotFound } = await import('@oclif/plugin-not-found');
    return pluginNotFound.call({ ...this, error: (message: string) => fail(message) }, options);
  }

  const visible = config.commands.filter((command) => !command.hidden).flatMap((command) => [command.id, ...command.aliases]);
  const suggestion = closestWord(options.id, visible);
  const typed = `${config.bin} ${words.join(' ')}`;
  const hint = suggestion ? ` Did you mean "${config.bin} ${suggestion.replaceAll(':', ' ')}"?` : '';
  const topic = config.findTopic(words[0]) ? ` ${words[0]}` : '';
  return fail(`"${typed}" is not a ${config.bin} command.${hint} See "${config.bin}${topic} --help".`);
};

export default hook;
