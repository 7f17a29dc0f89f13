// An unknown command is a usage error: one line naming the nearest help, exit code 2.
import type { Hook } from '@oclif/core';

const hook: Hook<'command_not_found'> = async function (options) {
  const words = options.id.split(':');
  const topic = options.config.findTopic(words[0]) ? words[0] : undefined;
  const help = topic ? `${options.config.bin} ${topic} --help` : `${options.config.bin} --help`;
  process.stderr.write(`Error: "${words.join(' ')}" is not a ${options.config.bin} command. See "${help}".\n`);
  this.exit(2);
};

export default hook;
