/**
 * The verification page (issue 14): drop a PDF (checked by the service, same checks and verdict words as
 * `skillcert verify`), land from a certificate's QR code (checked here, offline: the payload is in the URL
 * fragment, which the browser never sends), drop a photo of the paper (jsQR reads the code here), query a
 * certificate by number, name and ID number (第十六条, the service answers the status only).
 * Everything it loads comes from its own folder: the service or the static copy of `publish-verifier`.
 */
import jsQR from 'jsqr';
import { EMPTY_JOB, dateZh, levelLabel, type LevelCode } from '../pipeline/core/record.js';
import { verifyQr, type PageCheck, type QrResult, type TrustList } from './qr.js';
import { statusOf, type StatusAnswer } from './status.js';

const here = (path: string) => new URL(path, new URL('.', import.meta.url)).href;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

interface Site {
  /** true on `skillcert serve`: PDF upload and query work; false on the static copy. */
  readonly service: boolean;
}

let trustPromise: Promise<TrustList> | undefined;
const trust = () => (trustPromise ??= fetch(here('trust.json')).then((r) => (r.ok ? (r.json() as Promise<TrustList>) : { organisations: [] })));

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** Verdict words, as the CLI prints them, with the Chinese beside. */
const WORDS: Record<string, [string, string, string]> = {
  valid: ['有效', 'VALID', 'genuine and unchanged'],
  invalid: ['无效', 'INVALID', 'changed, forged or not ours'],
  indeterminate: ['无法确定', 'INDETERMINATE', 'some checks could not be decided'],
  revoked: ['已撤销', 'REVOKED', 'this certificate was revoked (第十八条)'],
  suspended: ['已暂停', 'SUSPENDED', 'queries of this certificate are suspended (第二十条)'],
  superseded: ['已被取代', 'SUPERSEDED', 'a corrected or reissued PDF replaces this one'],
};

function banner(kind: string, detail?: string): HTMLElement {
  const [zh, en, why] = WORDS[kind] ?? [kind, kind.toUpperCase(), ''];
  return el('div', { class: `verdict ${kind}`, 'data-verdict': kind }, `${zh} · ${en}`, el('small', {}, detail ?? why));
}

function checkList(checks: readonly PageCheck[]): HTMLElement {
  return el(
    'ul',
    { class: 'checks' },
    ...checks.map((c) => el('li', { class: c.ok === true ? 'pass' : c.ok === false ? 'fail' : 'unknown', 'data-check': c.id }, el('code', {}, c.id), ': ', c.message)),
  );
}

// ---- PDF drop ----

interface ServerVerdict {
  readonly verdict: string;
  readonly number?: string;
  readonly status?: string;
  readonly checks: PageCheck[];
}

async function verifyPdf(file: File): Promise<void> {
  const out = $('pdf-result');
  out.replaceChildren(el('p', { class: 'note' }, `正在核验 Checking ${file.name} …`));
  let res: Response;
  try {
    res = await fetch(here('api/verify'), { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: file });
  } catch {
    out.replaceChildren(banner('indeterminate', '无法连接验证服务 · the verification service cannot be reached'));
    return;
  }
  if (!res.ok) {
    const err = (await res.json().catch(() => ({ reason: res.statusText }))) as { reason?: string };
    out.replaceChildren(banner(res.status === 429 ? 'busy' : 'invalid', err.reason ?? `HTTP ${res.status}`));
    return;
  }
  const v = (await res.json()) as ServerVerdict;
  const failed = v.checks.find((c) => c.ok === false);
  const kind = v.status === 'revoked' || v.status === 'suspended' || v.status === 'superseded' ? v.status : v.verdict;
  const detail = kind === v.verdict && failed ? `${failed.id}: ${failed.message}` : undefined;
  const status = v.status === 'not checked' ? 'not checked (no status source)' : v.status;
  out.replaceChildren(
    banner(kind, detail),
    el('p', {}, `${v.verdict.toUpperCase()}${v.number ? ` · 证书编号 Certificate No. ${v.number}` : ''}${status ? ` · status: ${status}` : ''}`),
    checkList(v.checks),
  );
}

function dropTarget(zone: HTMLElement, input: HTMLInputElement, onFile: (f: File) => void): void {
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (f) onFile(f);
    input.value = '';
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const f = e.dataTransfer?.files[0];
    if (f) onFile(f);
  });
}

// ---- QR: landing and photo ----

async function showQr(out: HTMLElement, r: QrResult): Promise<void> {
  if (!r.claims || !r.organisation) {
    const failed = r.checks.find((c) => c.ok === false);
    out.replaceChildren(banner('invalid', failed ? `${failed.id}: ${failed.message}` : undefined), checkList(r.checks));
    return;
  }
  const c = r.claims;
  const status: StatusAnswer = await statusOf(c, r.organisation, here);
  // As in `skillcert verify`: a status that could not be checked is said beside the verdict, not folded into it.
  const checks = status.status === 'not checked' ? r.checks : [...r.checks, status.check];
  const kind = status.status === 'revoked' || status.status === 'suspended' ? status.status : checks.some((x) => x.ok === false) ? 'invalid' : checks.some((x) => x.ok === null) ? 'indeterminate' : 'valid';
  const detail = kind === 'valid' ? '二维码由发证机构签名，内容未被修改 · signed by the issuing organisation, unchanged' : undefined;
  const row = (zh: string, en: string, v: string) => [el('dt', {}, `${zh} `, el('span', { class: 'en' }, en)), el('dd', {}, v)];
  out.replaceChildren(
    banner(kind, detail),
    el(
      'div',
      { class: 'compare' },
      el('p', {}, '请与纸质证书核对 ', el('span', { class: 'en' }, 'Compare with the paper:')),
      el(
        'dl',
        { class: 'holder' },
        ...row('证书编号', 'Certificate No.', c.number),
        ...row('姓名', 'Name', c.name),
        ...row('证件号码', 'ID number (masked)', c.idMasked),
        ...row('职业名称', 'Occupation', c.occupation),
        ...row('工种/职业方向', 'Job', c.job || EMPTY_JOB),
        ...row('职业技能等级', 'Level', levelLabel(c.level as LevelCode)),
        ...row('发证日期', 'Issue date', dateZh(c.issueDate)),
        ...row('评价机构', 'Organisation', `${r.organisation.name.zh} (${r.organisation.orgCode})`),
      ),
    ),
    el('p', { class: 'status' }, status.status === 'not checked' ? `status: ${status.check.message}` : `status: ${status.status}`),
    checkList(checks),
  );
}

async function landing(): Promise<void> {
  const fragment = location.hash.slice(1);
  if (!fragment) return;
  const section = $('qr');
  section.hidden = false;
  const out = $('qr-result');
  out.replaceChildren(el('p', { class: 'note' }, '正在核验二维码 Checking the QR code …'));
  const number = new URLSearchParams(location.search).get('n') ?? '';
  const address = `${location.origin}${location.pathname}${location.search}`;
  await showQr(out, await verifyQr({ address, number, fragment }, await trust()));
}

async function verifyPhoto(file: File): Promise<void> {
  const out = $('photo-result');
  out.replaceChildren(el('p', { class: 'note' }, '正在读取二维码 Reading the QR code …'));
  let text: string | undefined;
  try {
    const bitmap = await createImageBitmap(file);
    // A phone photo is large; 2400 px on the long side keeps 2 px modules of a 150 dpi scan readable and jsQR quick.
    const scale = Math.min(1, 2400 / Math.max(bitmap.width, bitmap.height));
    const w = Math.round(bitmap.width * scale);
    const h = Math.round(bitmap.height * scale);
    const canvas = new OffscreenCanvas(w, h);
    const g = canvas.getContext('2d')!;
    g.drawImage(bitmap, 0, 0, w, h);
    const img = g.getImageData(0, 0, w, h);
    text = jsQR(img.data, w, h, { inversionAttempts: 'dontInvert' })?.data;
  } catch {
    text = undefined;
  }
  if (!text) {
    out.replaceChildren(banner('invalid', '照片中未找到二维码 · no QR code found in the photo'));
    return;
  }
  await showQr(out, await verifyQr({ text: text.replace(/[\r\n]+/g, '') }, await trust()));
}

// ---- query ----

async function query(form: HTMLFormElement): Promise<void> {
  const out = $('query-result');
  const data = new FormData(form);
  const body = { number: String(data.get('number') ?? ''), name: String(data.get('name') ?? ''), idNo: String(data.get('idNo') ?? '') };
  const res = await fetch(here('api/query'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).catch(() => undefined);
  if (!res) return void out.replaceChildren(banner('indeterminate', '无法连接验证服务 · the service cannot be reached'));
  if (res.status === 429) return void out.replaceChildren(banner('busy', '查询过于频繁，请稍后再试 · too many queries; try again in a minute'));
  if (!res.ok) {
    const err = (await res.json().catch(() => ({}))) as { reason?: string };
    return void out.replaceChildren(banner('invalid', err.reason ?? `HTTP ${res.status}`));
  }
  const a = (await res.json()) as { found: boolean; status?: string };
  const zh: Record<string, string> = { issued: '已发证', corrected: '已更正', reissued: '已补发/换发', revoked: '已撤销', suspended: '已暂停' };
  out.replaceChildren(
    a.found
      ? el('div', { class: `verdict ${a.status === 'revoked' ? 'revoked' : a.status === 'suspended' ? 'suspended' : 'valid'}`, 'data-answer': a.status ?? '' }, `一致 · matches: ${zh[a.status ?? ''] ?? ''} ${a.status}`)
      : el('div', { class: 'verdict invalid', 'data-answer': 'none' }, '查无此证 · no such certificate', el('small', {}, '证书编号、姓名、证件号码三项须与记录一致 · the number, name and ID number must all match')),
  );
}

// ---- start ----

async function main(): Promise<void> {
  const site = (await fetch(here('site.json'))
    .then((r) => (r.ok ? r.json() : { service: false }))
    .catch(() => ({ service: false }))) as Site;
  if (!site.service) {
    $('pdf-static').hidden = false;
    $('dropzone').hidden = true;
    $('query-static').hidden = false;
    $('query-form').hidden = true;
  }
  dropTarget($('dropzone'), $<HTMLInputElement>('pdf-input'), (f) => void verifyPdf(f));
  dropTarget($('photo-drop'), $<HTMLInputElement>('photo-input'), (f) => void verifyPhoto(f));
  $<HTMLFormElement>('query-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void query(e.target as HTMLFormElement);
  });
  window.addEventListener('hashchange', () => void landing());
  await landing();
  document.body.dataset.ready = 'true';
}

void main();
