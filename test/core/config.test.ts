import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { describeDatabase, maskPassword, parseDatabaseUrl, resolveConfig } from '../../src/core/config.js';
import { ValidationError } from '../../src/core/errors.js';

function configError(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    return error as ValidationError;
  }
  expect.fail('expected a ValidationError');
}

describe('configuration', () => {
  describe('data folder', () => {
    it('defaults to ~/.dana with local.db and uploads/ inside', () => {
      const config = resolveConfig({}, {});
      const home = path.join(os.homedir(), '.dana');
      expect(config.dataDir).to.equal(home);
      expect(config.database).to.deep.equal({ client: 'sqlite', filename: path.join(home, 'local.db') });
      expect(config.uploadDir).to.equal(path.join(home, 'uploads'));
    });

    it('is DANA_HOME when set', () => {
      const config = resolveConfig({}, { DANA_HOME: '/srv/dana' });
      expect(config.dataDir).to.equal('/srv/dana');
      expect(config.database).to.deep.equal({ client: 'sqlite', filename: '/srv/dana/local.db' });
      expect(config.uploadDir).to.equal('/srv/dana/uploads');
    });

    it('is the --data-dir override even when DANA_HOME is set', () => {
      const config = resolveConfig({ dataDir: '/flag/dir' }, { DANA_HOME: '/env/dir' });
      expect(config.dataDir).to.equal('/flag/dir');
      expect(config.database).to.deep.equal({ client: 'sqlite', filename: '/flag/dir/local.db' });
      expect(config.uploadDir).to.equal('/flag/dir/uploads');
    });
  });

  describe('database URL', () => {
    it('reads sqlite:///relative/path.db relative to the working directory', () => {
      expect(parseDatabaseUrl('sqlite:///relative/path.db', '/data')).to.deep.equal({
        client: 'sqlite',
        filename: path.resolve(process.cwd(), 'relative/path.db'),
      });
    });

    it('reads sqlite:////abs/path.db as the absolute path /abs/path.db', () => {
      expect(parseDatabaseUrl('sqlite:////abs/path.db', '/data')).to.deep.equal({ client: 'sqlite', filename: '/abs/path.db' });
    });

    it('takes a plain path as a SQLite file', () => {
      expect(parseDatabaseUrl('/var/lib/dana.db', '/data')).to.deep.equal({ client: 'sqlite', filename: '/var/lib/dana.db' });
      expect(parseDatabaseUrl('here.db', '/data')).to.deep.equal({ client: 'sqlite', filename: path.resolve('here.db') });
    });

    it('is used by resolveConfig instead of <data folder>/local.db', () => {
      const config = resolveConfig({}, { DANA_HOME: '/srv/dana', DANA_DATABASE_URL: 'sqlite:////elsewhere/x.db' });
      expect(config.database).to.deep.equal({ client: 'sqlite', filename: '/elsewhere/x.db' });
    });

    it('chooses PostgreSQL for postgres:// and postgresql:// URLs', () => {
      for (const url of ['postgres://dana:pw@db:5432/dana', 'postgresql://dana@db/dana', 'POSTGRES://db/dana']) {
        const settings = parseDatabaseUrl(url, '/data');
        expect(settings, url).to.include({ client: 'postgres', connectionString: url });
      }
    });

    it('refuses an unsupported scheme without showing its password', () => {
      const error = configError(() => parseDatabaseUrl('mysql://root:hunter2@db/dana', '/data'));
      expect(error.issues[0].loc).to.deep.equal(['env', 'DANA_DATABASE_URL']);
      expect(error.message).to.contain('mysql://root:***@db/dana').and.not.contain('hunter2');
    });

    it('refuses a sqlite URL that names no file', () => {
      configError(() => parseDatabaseUrl('sqlite:///', '/data'));
    });
  });

  describe('upload folder', () => {
    it('is DANA_UPLOAD_DIR when set, whatever the data folder', () => {
      const config = resolveConfig({ dataDir: '/flag/dir' }, { DANA_UPLOAD_DIR: '/mnt/files' });
      expect(config.uploadDir).to.equal('/mnt/files');
      expect(config.dataDir).to.equal('/flag/dir');
    });
  });

  describe('upload limit', () => {
    it('defaults to 50 MiB, i.e. 52,428,800 bytes', () => {
      const config = resolveConfig({}, {});
      expect(config.maxUploadMb).to.equal(50);
      expect(config.maxUploadBytes).to.equal(52_428_800);
    });

    it('is DANA_MAX_UPLOAD_MB mebibytes when set', () => {
      const config = resolveConfig({}, { DANA_MAX_UPLOAD_MB: '1' });
      expect(config.maxUploadMb).to.equal(1);
      expect(config.maxUploadBytes).to.equal(1_048_576);
    });

    it('refuses values that are not a positive number of MiB', () => {
      for (const value of ['0', '-1', 'abc', '10MB', 'Infinity', 'NaN']) {
        const error = configError(() => resolveConfig({}, { DANA_MAX_UPLOAD_MB: value }));
        expect(error.issues[0].loc, value).to.deep.equal(['env', 'DANA_MAX_UPLOAD_MB']);
      }
    });
  });

  describe('text extraction limits', () => {
    it('default to 512 MB and 60 s', () => {
      const config = resolveConfig({}, {});
      expect([config.extractMemoryMb, config.extractTimeoutS]).to.deep.equal([512, 60]);
    });

    it('are DANA_EXTRACT_MEMORY_MB and DANA_EXTRACT_TIMEOUT_S when set', () => {
      const config = resolveConfig({}, { DANA_EXTRACT_MEMORY_MB: '128', DANA_EXTRACT_TIMEOUT_S: '2.5' });
      expect([config.extractMemoryMb, config.extractTimeoutS]).to.deep.equal([128, 2.5]);
    });

    it('refuse values that are not positive numbers', () => {
      for (const variable of ['DANA_EXTRACT_MEMORY_MB', 'DANA_EXTRACT_TIMEOUT_S']) {
        for (const value of ['0', '-1', 'abc', 'Infinity']) {
          const error = configError(() => resolveConfig({}, { [variable]: value }));
          expect(error.issues[0].loc, `${variable}=${value}`).to.deep.equal(['env', variable]);
        }
      }
    });
  });

  describe('maskPassword', () => {
    it('replaces the password of a URL with ***', () => {
      expect(maskPassword('postgres://dana:s3cr:et@db.example:5432/dana')).to.equal('postgres://dana:***@db.example:5432/dana');
    });

    it('leaves URLs without a password unchanged', () => {
      for (const url of ['postgres://db/dana', 'postgresql://dana@db/dana', 'sqlite:////abs/path.db', '/plain/path.db', 'postgres://dana@db/dana?sslmode=require&passfile=/p']) {
        expect(maskPassword(url)).to.equal(url);
      }
    });

    it('masks every spelling of a password: user part, password= and sslpassword= parameters', () => {
      const cases: Array<[string, string]> = [
        ['postgres://u:secret@h/db', 'postgres://u:***@h/db'],
        ['postgresql://u:secret@h:5432/db', 'postgresql://u:***@h:5432/db'],
        ['POSTGRES://u:secret@h/db', 'POSTGRES://u:***@h/db'],
        ['postgres://:secret@h/db', 'postgres://:***@h/db'],
        ['postgres://u:se%40cr%2Fet@h/db', 'postgres://u:***@h/db'],
        ['postgres://u:se@cret@h/db', 'postgres://u:***@h/db'],
        ['postgres://u@h/db?password=secret', 'postgres://u@h/db?password=***'],
        ['postgres://u@h/db?sslmode=require&password=secret', 'postgres://u@h/db?sslmode=require&password=***'],
        ['postgres://u@h/db?PASSWORD=secret&application_name=x', 'postgres://u@h/db?PASSWORD=***&application_name=x'],
        ['postgres://u@h/db?sslpassword=secret#frag', 'postgres://u@h/db?sslpassword=***#frag'],
        ['postgres://u:one@h/db?password=two&sslpassword=three', 'postgres://u:***@h/db?password=***&sslpassword=***'],
      ];
      for (const [url, masked] of cases) {
        expect(maskPassword(url), url).to.equal(masked);
        for (const secret of ['secret', 'one', 'two', 'three', 'cret']) expect(maskPassword(url)).not.to.contain(secret);
      }
    });

    it('masks URLs inside a longer message (an error quoting the URL)', () => {
      expect(maskPassword('could not connect to postgres://u:secret@h/db?password=again (refused)'))
        .to.equal('could not connect to postgres://u:***@h/db?password=*** (refused)');
    });

    it('is what describeDatabase and a refused DANA_DATABASE_URL show', () => {
      expect(describeDatabase(parseDatabaseUrl('postgres://u@h/db?password=secret', '/data'))).to.equal('postgres://u@h/db?password=***');
      const error = configError(() => parseDatabaseUrl('mysql://u:secret@h/db?password=secret', '/data'));
      expect(JSON.stringify(error.issues)).not.to.contain('secret');
    });
  });
});
