/**
 * A child process that numbers a range of the test roster in one registry (a SQLite file or a PostgreSQL URL, the
 * password in PGPASSWORD), printing one JSON line per certificate after its transaction committed. Run as: node --import=tsx test/helpers/registry-worker.ts '<WorkerJob JSON>'
 */
import { createInterface } from 'node:readline';
import { isRegistryUrl } from '../../pipeline/registry/index.js';
import { openPostgresRegistry } from '../../pipeline/registry/postgres.js';
import { openSqliteRegistry } from '../../pipeline/registry/sqlite.js';
import { personRequest, type WorkerJob, type WorkerLine } from './registry-fixtures.js';

const job = JSON.parse(process.argv[2] ?? '{}') as WorkerJob;

let taken = 0;
const open = isRegistryUrl(job.db) ? openPostgresRegistry : openSqliteRegistry;
const registry = await open(job.db, {
  faults: {
    afterSerial() {
      taken += 1;
      // A real crash at the worst moment: the serial is taken, the certificate not yet recorded, nothing committed.
      if (job.crashAtSerialTaken !== undefined && taken >= job.crashAtSerialTaken) process.kill(process.pid, 'SIGKILL');
    },
  },
});

if (job.waitForGo) {
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const rl = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => rl.once('line', () => resolve()));
  rl.close();
}

for (let i = job.from; i < job.to; i++) {
  const { created, certificate: c } = await registry.issue(personRequest(i, job.batchId));
  const line: WorkerLine = { i, number: c.number, created, serial: c.serial, stockSerial: c.stockSerial, pid: process.pid };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
await registry.close();
