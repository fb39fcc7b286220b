#!/usr/bin/env node
/**
 * The skillcert command. Each subcommand parses its options, builds the context (clock, logger, operator)
 * and calls one orchestrating function; errors follow one contract: a SkillcertError prints
 * `skillcert: E_CODE: message` (or, with --json, `{ ok: false, code, exitCode, message, details }`) and exits non-zero.
 */
import { Command, Option } from 'commander';
import { makeContext } from './context.js';
import { SkillcertError } from './errors.js';
import { makeLogger } from './log.js';
import { preview } from './preview.js';

const EXIT: Record<string, number> = { E_USAGE: 2 };

function fail(err: unknown, json: boolean): never {
  const e = err instanceof SkillcertError ? err : new SkillcertError('E_IO', (err as Error)?.message ?? String(err), {}, { cause: err });
  const exitCode = EXIT[e.code] ?? 1;
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, code: e.code, exitCode, message: e.message, details: e.details }, null, 2)}\n`);
  else process.stderr.write(`skillcert: ${e.code}: ${e.message}\n`);
  if (!(err instanceof SkillcertError) && process.env.SKILLCERT_DEBUG) console.error(err);
  process.exit(exitCode);
}

function context(opts: { quiet?: boolean; operator?: string }) {
  return makeContext({ log: makeLogger(opts.quiet ? 'warn' : 'info'), ...(opts.operator ? { operator: opts.operator } : {}) });
}

const program = new Command('skillcert')
  .description('Vocational skill-level certificates (职业技能等级证书): roster in, signed bilingual A4 PDFs out')
  .version('0.1.0')
  .showHelpAfterError();

program
  .command('render')
  .description('render one certificate from a JSON record and a profile to PDF and a PNG preview (for designers)')
  .requiredOption('--record <file>', 'record JSON (name, idType, idNo, occupation, job, level, issueDate, number, stockSerial, photo?)')
  .requiredOption('--profile <file>', 'organisation or competition profile JSON')
  .option('--out <dir>', 'output folder', 'output/preview')
  .addOption(new Option('--dpi <n>', 'PNG resolution').argParser(Number).default(100))
  .option('--json', 'print the result as JSON')
  .action(async (opts: { record: string; profile: string; out: string; dpi: number; json?: boolean }) => {
    try {
      const r = await preview(context({ quiet: true }), opts);
      if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, ...r }, null, 2)}\n`);
      else {
        process.stdout.write(`${r.style}: ${r.pdf}\npreview: ${r.png}\n`);
        for (const f of r.fonts) process.stdout.write(`font ${f.role} (${f.reference}): ${f.faces[0]!.file}${f.fallback ? '  [open fallback]' : ''}\n`);
      }
    } catch (err) {
      fail(err, Boolean(opts.json));
    }
  });

await program.parseAsync(process.argv);
