import * as Flags from '@oclif/core/flags';
import { DanaCommand } from '../cli/base-command.js';
import { describeDatabase } from '../core/config.js';

export default class Worker extends DanaCommand<typeof Worker> {
  static override summary = 'Execute runs from the queue until stopped, beside any servers and workers on the same database.';
  static override description = 'Takes queued runs (`dana runs start`, POST /api/agents/{id}/runs) and executes them, as the workers of '
    + '`dana serve` do. Any number of servers and workers may share one database: each run executes once. A run whose worker '
    + 'died is taken up again once its lease (60 s) lapses, at most 3 times. Stop with Ctrl-C (or SIGTERM): runs in hand go '
    + 'back to the queue, and the command exits 0.';
  static override enableJsonFlag = false;
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    'Four runs at once, on a PostgreSQL database shared with servers started with --workers 0\n'
      + 'DANA_DATABASE_URL=postgres://dana@db/dana <%= config.bin %> <%= command.id %> --concurrency 4',
  ];
  static override flags = {
    concurrency: Flags.integer({ char: 'c', description: 'Runs executed at once.', default: 2, min: 1, max: 64 }),
  };

  async run() {
    const config = await this.danaConfig();
    const { createLogger } = await import('../server/logger.js');
    const logger = createLogger('info');
    const context = await this.openContext({ log: (level, message) => logger[level](message) });
    const { RunWorkerPool } = await import('../core/runs/worker.js');
    const { concurrency } = this.flags;
    const pool = new RunWorkerPool(context, { concurrency, log: (level, message) => logger[level](message) });
    const stopped = new Promise<string>((resolve) => {
      const stop = (signal: string) => {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
        resolve(signal);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    pool.start();
    this.io.stdout.write(`Working on runs of ${describeDatabase(config.database)} (data folder ${config.dataDir}), ${concurrency} at once. Press Ctrl-C to stop.\n`);
    const signal = await stopped;
    logger.info(`${signal} received: giving runs in hand back to the queue`);
    await pool.stop();
    logger.info('stopped');
  }
}
