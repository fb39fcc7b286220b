/**
 * A real PostgreSQL server for the tests of the shared registry (SPEC §9): initdb into a temporary folder, started
 * with pg_ctl on a free loopback port with password (scram-sha-256) authentication, one fresh database per test.
 * The server binaries come from Debian's postgresql package (scripts/setup-system.sh installs it). PostgreSQL
 * refuses to run as root, so as root the server runs as the `postgres` user the package creates.
 *
 * The server is for tests only: fsync is off (a killed client is what the tests exercise, not a power cut).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PgServer {
  /** postgres://skillcert@127.0.0.1:<port>/<database>: no password in it; PGPASSWORD is set in this process. */
  readonly baseUrl: string;
  readonly password: string;
  /** Makes an empty database and returns its URL. */
  createDatabase(): Promise<string>;
  /** A raw client on a database (for tampering behind the registry's back, and for reading it directly). */
  client(url: string): Promise<pg.Client>;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

const USER = 'skillcert';

function serverBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions[0]) throw new Error('no PostgreSQL server found under /usr/lib/postgresql; run `bash scripts/setup-system.sh` (Debian package postgresql)');
  return join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<PgServer> {
  const bin = serverBin();
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-pg-'));
  const data = join(dir, 'data');
  const sockets = join(dir, 'sockets');
  mkdirSync(sockets);
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });

  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  };
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chmodSync(dir, 0o700);
    for (const p of [dir, sockets, pwfile]) chownSync(p, uid, gid);
  }

  run('initdb', ['-D', data, '-U', USER, '-A', 'scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-locale', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=50`;
  try {
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
  } catch (err) {
    const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : '';
    throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${log}`);
  }
  process.env.PGPASSWORD = password;
  const baseUrl = `postgres://${USER}@127.0.0.1:${port}`;
  let n = 0;
  const client = async (url: string) => {
    const c = new pg.Client({ connectionString: url, password });
    c.on('error', () => {}); // the server stopping under an idle client is not a test failure
    await c.connect();
    return c;
  };

  return {
    baseUrl,
    password,
    async createDatabase() {
      const name = `t${process.pid}_${++n}`;
      const admin = await client(`${baseUrl}/postgres`);
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return `${baseUrl}/${name}`;
    },
    client,
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
