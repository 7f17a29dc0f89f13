import * as Errors from '@oclif/core/errors';
import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../cli/base-command.js';
import { LOG_LEVELS } from '../server/logger.js';

export default class Serve extends DanaCommand<typeof Serve> {
  static override summary = 'Serve the REST API (and a web client) over the same data as the CLI.';
  static override description = 'The CLI and a running server can use one data folder at the same time. Stop with Ctrl-C: in-flight requests finish first.';
  static override enableJsonFlag = false;
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    'Listen on every interface, port 9000\n<%= config.bin %> <%= command.id %> --host 0.0.0.0 --port 9000',
    'Serve a web client built with base "/static/"\n<%= config.bin %> <%= command.id %> --static-dir ./web/dist',
    'Restart on code changes while developing Dana\n<%= config.bin %> <%= command.id %> --reload --log-level debug',
  ];
  static override flags = {
    host: Flags.string({ description: 'Interface to listen on.', default: '127.0.0.1' }),
    port: Flags.integer({ char: 'p', description: 'Port to listen on (0 picks a free one).', default: 8080, min: 0, max: 65535 }),
    reload: Flags.boolean({ description: 'Restart when the code changes (development).', default: false }),
    'log-level': Flags.string({ description: 'Least severe log line shown.', options: [...LOG_LEVELS], default: 'info' }),
    'static-dir': Flags.string({ description: 'Folder of a web client to serve at / and /static/ (or $DANA_STATIC_DIR).' }),
    'cors-origin': Flags.string({ description: 'Only this origin (or comma-separated origins) may call the API from a browser; default: any.' }),
  };

  async run() {
    const flags = this.flags;
    if (flags.reload) {
      const { serveWithReload } = await import('../server/reload.js');
      const args = this.argv.filter((arg) => arg !== '--reload');
      return serveWithReload(args);
    }
    const config = await this.danaConfig({ staticDir: flags['static-dir'] });
    const { serve, PortInUseError } = await import('../server/serve.js');
    try {
      await serve(config, {
        host: flags.host,
        port: flags.port,
        logLevel: flags['log-level'] as (typeof LOG_LEVELS)[number],
        corsOrigin: flags['cors-origin'],
      });
    } catch (error) {
      if (error instanceof PortInUseError) throw new Errors.CLIError(error.message, { exit: 1 });
      throw error;
    }
    this.exit(0);
  }
}
