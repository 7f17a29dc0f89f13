// The public surface as committed snapshots: the OpenAPI document the server publishes, and
// every command with its flags and arguments as the built CLI's manifest declares them.
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { bodyOf } from '../helpers/chat.js';
import { expectSnapshot } from '../helpers/snapshot.js';
import { startTestServer } from '../helpers/server.js';

interface ManifestFlag {
  type: string;
  char?: string;
  options?: string[];
  required?: boolean;
  multiple?: boolean;
  default?: unknown;
  aliases?: string[];
}

interface ManifestCommand {
  args: Record<string, { required?: boolean; options?: string[] }>;
  flags: Record<string, ManifestFlag>;
  strict?: boolean;
}

describe('the public surface', () => {
  it('GET /openapi.json matches test/snapshots/openapi.json', async () => {
    const server = await startTestServer();
    try {
      expectSnapshot('openapi.json', await bodyOf(await server.api('/openapi.json')));
    } finally {
      await server.close();
    }
  });

  it('the commands and their flags match test/snapshots/commands.json', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, ManifestCommand> };
    const commands = Object.fromEntries(
      Object.keys(manifest.commands)
        .sort()
        .map((id) => {
          const { args, flags, strict } = manifest.commands[id];
          return [
            id.replaceAll(':', ' '),
            {
              args: Object.fromEntries(Object.entries(args).map(([name, arg]) => [name, { required: arg.required ?? false, ...(arg.options && { options: arg.options }) }])),
              variadic: strict === false,
              flags: Object.fromEntries(
                Object.keys(flags)
                  .sort()
                  .map((name) => {
                    const flag = flags[name];
                    return [name, {
                      type: flag.type,
                      ...(flag.char && { char: flag.char }),
                      ...(flag.options && { options: flag.options }),
                      required: flag.required ?? false,
                      multiple: flag.multiple ?? false,
                      ...(flag.aliases?.length && { aliases: flag.aliases }),
                      ...(flag.default !== undefined && { default: flag.default }),
                    }];
                  }),
              ),
            },
          ];
        }),
    );
    expectSnapshot('commands.json', commands);
  });
});
