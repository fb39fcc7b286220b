/**
 * Issue 13: nothing the code needs may come from what somebody installed by hand. Every external program the code
 * starts and every font file or family it names must be provided by scripts/setup-system.sh (a Debian package in
 * its list) or be part of every Debian system (an Essential or required package). The names are read from the
 * sources, so a program or font path that a new line of code names cannot slip in unnoticed.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SETUP = readFileSync(join(ROOT, 'scripts/setup-system.sh'), 'utf8');
/** The packages setup installs: the keys of its `probe` table. */
const LISTED = [...SETUP.matchAll(/^\s*\[([a-z0-9.+-]+)\]=/gm)].map((m) => m[1]!);
/** …and what they depend on (postgresql → postgresql-15, which holds initdb), as installed here. */
const SETUP_PACKAGES = new Set(
  execFileSync('apt-cache', ['depends', '--recurse', '--installed', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', ...LISTED], { encoding: 'utf8', maxBuffer: 16 << 20 })
    .split('\n')
    .filter((l) => l && !l.startsWith(' ') && !l.startsWith('<'))
    .map((l) => l.split(':')[0]!.trim()),
);

function sources(dir: string, exts: RegExp): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name === 'output' || name.startsWith('.')) continue;
    if (statSync(p).isDirectory()) out.push(...sources(p, exts));
    else if (exts.test(name)) out.push(p);
  }
  return out;
}

const CODE = ['pipeline', 'scripts', 'test', 'bin'].flatMap((d) => sources(join(ROOT, d), /\.(ts|js|mjs|sh)$|^skillcert$/));

/** A source without its comments (block, line and Handlebars comments), which may name programs and faces freely. */
const blank = (m: string) => m.replace(/[^\n]/g, ''); // keeps line numbers
const code = (file: string) =>
  readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, blank).replace(/^\s*(\/\/|#(?!!)).*$/gm, blank).replace(/\{\{!--[\s\S]*?--\}\}/g, blank);

/** Where each program is named: file:line. */
function namedPrograms(): Map<string, string> {
  const found = new Map<string, string>();
  const note = (name: string, file: string, text: string, index: number) => {
    if (!found.has(name)) found.set(name, `${relative(ROOT, file)}:${text.slice(0, index).split('\n').length}`);
  };
  for (const file of CODE) {
    const text = code(file);
    // execFile('pdfsig', …), spawnSync("qpdf", …), a promisified run('pdftotext', …) (program names are lower case;
    // run('COMMIT') is a database call)
    for (const m of text.matchAll(/\b(?:execFile|execFileSync|spawn|spawnSync|run|pexec|execa)\(\s*['"]([a-z0-9_.+-]+)['"]/g)) note(m[1]!, file, text, m.index!);
    // absolute paths of programs: '/usr/bin/chromium', the PostgreSQL server's bin folder
    for (const m of text.matchAll(/\/usr\/(?:local\/)?(?:s?bin|lib\/postgresql\/\d+\/bin)\/[A-Za-z0-9_.+-]+/g)) note(m[0], file, text, m.index!);
  }
  return found;
}

/** The package that owns a file; links followed, and /usr/bin/NAME also tried as /bin/NAME (Debian's merged /usr). */
function packageOf(path: string): string | undefined {
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    return undefined;
  }
  for (const p of new Set([path, real, real.replace(/^\/usr\/(s?bin)\//, '/$1/')])) {
    try {
      const out = execFileSync('dpkg', ['-S', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const line = out.split('\n').find((l) => !l.startsWith('diversion'));
      if (line) return line.split(':')[0]!.split(',')[0]!.trim();
    } catch {
      // not this spelling of the path
    }
  }
  return undefined;
}

/** Essential or required packages are on every Debian system, so setup need not install them. */
function isBase(pkg: string): boolean {
  const out = execFileSync('dpkg-query', ['-W', '-f', '${Essential} ${Priority}', pkg], { encoding: 'utf8' });
  return /^yes|\brequired$|\bimportant$/.test(out.trim());
}

function resolveProgram(name: string): string | undefined {
  if (name.startsWith('/')) return name;
  try {
    return execFileSync('bash', ['-c', 'type -P "$1"', '_', name], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

test('every program the code starts is installed by scripts/setup-system.sh or is part of every Debian system', (t) => {
  const programs = namedPrograms();
  t.true(programs.size >= 10, `found only ${programs.size} program names: the scan is broken`);
  for (const name of ['pdfsig', 'qpdf', 'zbarimg', 'mutool', 'openssl', '/usr/bin/chromium']) t.true(programs.has(name), `the scan finds ${name}`);
  const problems: string[] = [];
  for (const [name, where] of programs) {
    if (name === 'node') continue; // the runtime itself
    const path = resolveProgram(name);
    if (!path) {
      problems.push(`${name} (named at ${where}) is not on this machine: add its package to scripts/setup-system.sh`);
      continue;
    }
    if (path === process.execPath) continue;
    const pkg = packageOf(path);
    if (!pkg) problems.push(`${name} (named at ${where}) is ${path}, which no Debian package provides: it was installed by hand`);
    else if (!SETUP_PACKAGES.has(pkg) && !isBase(pkg)) problems.push(`${name} (named at ${where}) comes from the package ${pkg}, which scripts/setup-system.sh does not install`);
  }
  t.deepEqual(problems, []);
});

const FONTS = JSON.parse(readFileSync(join(ROOT, 'fonts/fonts.json'), 'utf8')) as { roles: Record<string, { fallbacks: string[] }> };

test('every open fallback font of fonts/fonts.json is installed by scripts/setup-system.sh', (t) => {
  const problems: string[] = [];
  let n = 0;
  for (const [role, spec] of Object.entries(FONTS.roles)) {
    for (const entry of spec.fallbacks) {
      n++;
      const file = entry.replace(/#[^/]*$/, '');
      const pkg = packageOf(file);
      if (!pkg) problems.push(`role ${role}: ${file} is not provided by any installed package`);
      else if (!SETUP_PACKAGES.has(pkg)) problems.push(`role ${role}: ${file} comes from ${pkg}, which scripts/setup-system.sh does not install`);
    }
  }
  t.true(n >= 4);
  t.deepEqual(problems, []);
});

test('no code names a font family of its own: text is drawn with the faces of the font roles', (t) => {
  // A family in an SVG or CSS string goes to fontconfig, which draws it in whatever the machine has (the demo
  // seal did, and came out in a fallback face on a fresh machine). Families come from a resolved Face instead.
  const problems: string[] = [];
  const files = [...CODE.filter((f) => f.includes('/pipeline/')), ...sources(join(ROOT, 'templates'), /\.(hbs|css|html)$/)];
  for (const file of files) {
    const text = code(file);
    for (const m of text.matchAll(/font-family\s*[=:]\s*["']?([^"'{}$;>]+)/g)) {
      if (m[1]!.trim()) problems.push(`${relative(ROOT, file)}: font-family ${m[1]!.trim()}`);
    }
    for (const m of text.matchAll(/\b(?:Noto (?:Sans|Serif)|WenQuanYi|SimSun|Source Han|Droid Sans)[^'"]*/g)) problems.push(`${relative(ROOT, file)}: ${m[0]}`);
  }
  t.deepEqual(problems, []);
});
