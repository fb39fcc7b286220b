/**
 * Progress of a batch: a bar with counts, rate and time left on a terminal (cli-progress), plain log lines
 * (every 10 % or 10 s) when stderr is a file or a pipe, as under cron.
 */
import cliProgress from 'cli-progress';
import type { Logger } from '../core/context.js';
import type { Progress } from '../batch/run.js';

export function terminalProgress(): Progress {
  const bar = new cliProgress.SingleBar(
    { format: 'certificates {bar} {value}/{total} | {rate}/s | {eta_formatted} left', stream: process.stderr, hideCursor: true, etaBuffer: 200 },
    cliProgress.Presets.shades_classic,
  );
  let t0 = 0;
  return {
    start(total) { t0 = Date.now(); bar.start(total, 0, { rate: '0' }); },
    tick(done) { bar.update(done, { rate: (done / Math.max(0.001, (Date.now() - t0) / 1000)).toFixed(1) }); },
    stop() { bar.stop(); },
  };
}

export function logProgress(log: Logger): Progress {
  let total = 0;
  let t0 = 0;
  let lastAt = 0;
  let lastShare = -1;
  return {
    start(n) { total = n; t0 = lastAt = Date.now(); log.info('certificates: start', { total }); },
    tick(done) {
      const now = Date.now();
      const share = total ? Math.floor((done / total) * 10) : 0;
      if (share > lastShare || now - lastAt >= 10_000 || done === total) {
        lastShare = share;
        lastAt = now;
        const rate = done / Math.max(0.001, (now - t0) / 1000);
        log.info('certificates', { done, total, ratePerSecond: Number(rate.toFixed(1)), secondsLeft: Math.round((total - done) / Math.max(rate, 0.001)) });
      }
    },
    stop() {},
  };
}

export function progressFor(log: Logger, quiet = false): Progress {
  if (quiet) return { start() {}, tick() {}, stop() {} };
  return process.stderr.isTTY ? terminalProgress() : logProgress(log);
}
