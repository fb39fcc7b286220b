/**
 * Issue 16: the layout shows the architecture. No module imports itself back through others (an import circle),
 * and the stages do not import each other's rooms' internals upward: only the orchestration (batch/, cli/,
 * after/) may import the batch's run order.
 */
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const PIPELINE = fileURLToPath(new URL('../../pipeline', import.meta.url));

function modules(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? modules(p) : n.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of a module (static, type-only and dynamic), as module paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]!);
  return specs.filter((s) => s.endsWith('.js')).map((s) => normalize(join(dirname(file), s.replace(/\.js$/, '.ts'))));
}

const graph = new Map(modules(PIPELINE).map((f) => [f, importsOf(f)]));
const name = (f: string) => relative(PIPELINE, f);

test('the pipeline has no import circle', (t) => {
  // Tarjan's strongly connected components: any component of more than one module is a circle
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        on.delete(w);
        scc.push(name(w));
        if (w === v) break;
      }
      if (scc.length > 1) circles.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  t.true(graph.size > 50, `read ${graph.size} modules`);
  t.deepEqual(circles, []);
});

test('no loose modules at the root of pipeline/: every module lives in a room', (t) => {
  t.deepEqual([...graph.keys()].map(name).filter((n) => !n.includes('/')), []);
});

test('core/ and pki/ import no room of the pipeline but each other: they are what every room stands on', (t) => {
  const upward = [...graph].flatMap(([f, deps]) =>
    /^(core|pki)\//.test(name(f)) ? deps.filter((d) => !/^(core|pki|data)\//.test(name(d)) && !name(d).startsWith('..')).map((d) => `${name(f)} → ${name(d)}`) : [],
  );
  t.deepEqual(upward, []);
});
