import * as Errors from '@oclif/core/errors';
import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../cli/base-command.js';
import { LOG_LEVELS } from '../server/logger.js';

export default class Serve extends DanaCommand<typeof Serve> {
  static override summary = 'Serve the REST API (and a web client) over the same data as the CLI.';
  static override description = 'The CLI and a running server can use one data folder at the same time. Stop with Ctrl-C: in-flight requests finish first.\n\n'
    + 'On loopback (the default) tokens are optional. On any other address every route but /health needs '
    + '"Authorization: Bearer <token>" (create one with "dana tokens create --name NAME"), and the server refuses to start '
    + 'while no token exists unless --no-auth is given. Only localhost, 127.0.0.1, [::1] and the --host address are '
    + 'accepted in the Host header; add names with --allowed-host. Browsers on other origins get no CORS access and '
    + 'cannot write unless their origin is given with --cors-origin.';
  static override enableJsonFlag = false;
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    'Open to the network: create a token, then listen on every interface, reached as dana.lan\n'
      + '<%= config.bin %> tokens create --name laptop\n<%= config.bin %> <%= command.id %> --host 0.0.0.0 --port 8080 --allowed-host dana.lan',
    'A client on another machine sends the token\ncurl -H "Authorization: Bearer $TOKEN" http://dana.lan:8080/api/agents/',
    'Behind an HTTPS reverse proxy on the same machine that forwards dana.example.com\n'
      + '<%= config.bin %> <%= command.id %> --allowed-host dana.example.com --cors-origin https://dana.example.com --require-token',
    'Let a web client on another origin call the API\n<%= config.bin %> <%= command.id %> --cors-origin http://localhost:5173',
    'At most 600 requests a minute per token (or address); scrape metrics at /metrics\n<%= config.bin %> <%= command.id %> --rate-limit 600',
    'Leave runs to `dana worker` processes on the same database\n<%= config.bin %> <%= command.id %> --workers 0',
    'Serve a web client built with base "/static/"\n<%= config.bin %> <%= command.id %> --static-dir ./web/dist',
    'Restart on code changes while developing Dana\n<%= config.bin %> <%= command.id %> --reload --log-level debug',
  ];
  static override flags = {
    host: Flags.string({ description: 'Interface to listen on (off loopback, tokens are required).', default: '127.0.0.1' }),
    port: Flags.integer({ char: 'p', description: 'Port to listen on (0 picks a free one).', default: 8080, min: 0, max: 65535 }),
    reload: Flags.boolean({ description: 'Restart when the code changes (development).', default: false }),
    'log-level': Flags.string({ description: 'Least severe log line shown.', options: [...LOG_LEVELS], default: 'info' }),
    'static-dir': Flags.string({ description: 'Folder of a web client to serve at / and /static/ (or $DANA_STATIC_DIR).' }),
    'cors-origin': Flags.string({
      description: 'An origin whose pages may call the API (repeatable, or comma-separated; or $DANA_CORS_ORIGINS). "*" allows any; default: none.',
      multiple: true,
    }),
    'allowed-host': Flags.string({
      description: 'A name clients may use in the Host header besides localhost, 127.0.0.1, [::1] and --host (repeatable, or comma-separated; or $DANA_ALLOWED_HOSTS). "*" allows any.',
      multiple: true,
    }),
    'require-token': Flags.boolean({ description: 'Require a token on loopback too (or $DANA_REQUIRE_TOKEN=1).', default: false }),
    'no-auth': Flags.boolean({ description: 'Serve off loopback without tokens: anyone who can reach the port can read and change everything.', default: false }),
    'max-connections': Flags.integer({ description: 'Most connections open at once (kept under the open-file limit).', default: 1000, min: 1 }),
    'rate-limit': Flags.integer({
      description: 'Most requests a minute per token, or per client address without one (or $DANA_RATE_LIMIT); past it: 429 with Retry-After. On PostgreSQL every server shares the count. Default: no limit.',
      min: 1,
      env: 'DANA_RATE_LIMIT',
    }),
    workers: Flags.integer({
      description: 'Runs this server executes at once (0: none; `dana worker` processes on the same database can execute them).',
      default: 2,
      min: 0,
      max: 64,
    }),
  };

  async run() {
    const flags = this.flags;
    if (flags.reload) {
      const { serveWithReload } = await import('../server/reload.js');
      const args = this.argv.filter((arg) => arg !== '--reload');
      return serveWithReload(args);
    }
    const corsOrigins = listSetting(flags['cors-origin'], this.io.env.DANA_CORS_ORIGINS);
    if (corsOrigins.includes('null')) throw new Errors.CLIError('The origin "null" is never allowed (--cors-origin)', { exit: 2 });
    const config = await this.danaConfig({ staticDir: flags['static-dir'] });
    const { serve, PortInUseError, NoTokenError } = await import('../server/serve.js');
    try {
      await serve(config, {
        host: flags.host,
        port: flags.port,
        logLevel: flags['log-level'] as (typeof LOG_LEVELS)[number],
        corsOrigins,
        allowedHosts: listSetting(flags['allowed-host'], this.io.env.DANA_ALLOWED_HOSTS),
        requireToken: flags['require-token'] || /^(1|true|yes)$/i.test(this.io.env.DANA_REQUIRE_TOKEN ?? ''),
        noAuth: flags['no-auth'],
        maxConnections: flags['max-connections'],
        rateLimit: flags['rate-limit'],
        workers: flags.workers,
      });
    } catch (error) {
      if (error instanceof PortInUseError) throw new Errors.CLIError(error.message, { exit: 1 });
      if (error instanceof NoTokenError) throw new Errors.CLIError(error.message, { exit: 2 });
      throw error;
    }
    this.exit(0);
  }
}

/** A repeatable flag's values (each may be a comma list), or else the environment's comma list. */
function listSetting(values: string[] | undefined, fromEnv: string | undefined): string[] {
  const given = values?.length ? values : [fromEnv ?? ''];
  return given.flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
}
