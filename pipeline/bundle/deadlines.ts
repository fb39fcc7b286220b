/**
 * Filing deadlines (SPEC §7), reported as warnings in the batch report:
 *  - 第十三条 (seed 002): certificate data is submitted within 30 working days of the issue date;
 *  - 第十五条: data more than 5 months past the issue date is in principle not accepted;
 *  - seed 000 四: competition certificates are applied for within the competition's calendar year.
 *
 * Working days follow the State Council's holiday arrangements as packaged by chinese-days (public
 * holidays off, make-up Saturdays/Sundays on). Its data covers whole years only up to a point
 * (1.5.7: 2004-2026); a count that runs into a year it does not know is not guessed silently: the
 * warning says the date is a weekdays-only estimate and which year's notice to check.
 */
import type { DeadlineWarning } from '../core/summary.js';
import type { Profile } from '../core/profile.js';
import { chinaDate, jurisdiction } from './model.js';
import { requireCjs } from '../core/cjs.js';

const chineseDays = requireCjs('chinese-days') as typeof import('chinese-days');

/** 第十三条 */
export const UPLOAD_WORKING_DAYS = 30;
/** 第十五条 */
export const REFUSAL_MONTHS = 5;

// chinese-days ships one minified CommonJS bundle: Node sees no named exports, only module.exports.
const { getHolidaysInRange, isWorkday } = chineseDays;

const ISO = /^\d{4}-\d{2}-\d{2}$/;

function parse(iso: string): Date {
  if (!ISO.test(iso)) throw new RangeError(`Expected a date as YYYY-MM-DD but received ${JSON.stringify(iso)}`);
  const d = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso) throw new RangeError(`Expected a real calendar date but received ${iso}`);
  return d;
}

const fmt = (d: Date): string => d.toISOString().slice(0, 10);

export function addDays(iso: string, n: number): string {
  const d = parse(iso);
  d.setUTCDate(d.getUTCDate() + n);
  return fmt(d);
}

/** Calendar months, clamped to the month's end: 2025-09-30 + 5 months = 2026-02-28. */
export function addMonths(iso: string, n: number): string {
  const d = parse(iso);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + n;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return fmt(new Date(Date.UTC(y, m, Math.min(d.getUTCDate(), last))));
}

const covered = new Map<number, boolean>();

/** Whether chinese-days knows the holidays of a year (every year has 元旦, so a known year has at least one). */
export function holidayDataCovers(year: number): boolean {
  let hit = covered.get(year);
  if (hit === undefined) {
    hit = getHolidaysInRange(`${year}-01-01`, `${year}-12-31`, false).length > 0;
    covered.set(year, hit);
  }
  return hit;
}

/** The last year of the packaged holiday data (searched up from 2004, the package's first year). */
export function holidayDataLastYear(): number {
  let y = 2004;
  while (holidayDataCovers(y + 1)) y++;
  return y;
}

/** A working day per the holiday data; undefined when the year is beyond it. */
export function workingDay(iso: string): boolean | undefined {
  if (!holidayDataCovers(Number(iso.slice(0, 4)))) return undefined;
  return isWorkday(iso);
}

export interface WorkingDayCount {
  /** The n-th working day after the start date. */
  readonly date: string;
  /** false when some day of the count lies in a year without holiday data (counted Monday-Friday). */
  readonly exact: boolean;
  /** Years the count ran through without holiday data. */
  readonly unknownYears: readonly number[];
}

/**
 * The n-th working day after `start`. The start day itself is not counted (《民法典》第二百零一条: a period
 * in days begins on the next day), so an issue date that is a holiday changes nothing.
 */
export function addWorkingDays(start: string, n: number): WorkingDayCount {
  let day = start;
  let left = n;
  const unknown = new Set<number>();
  while (left > 0) {
    day = addDays(day, 1);
    let work = workingDay(day);
    if (work === undefined) {
      unknown.add(Number(day.slice(0, 4)));
      const dow = parse(day).getUTCDay();
      work = dow !== 0 && dow !== 6;
    }
    if (work) left--;
  }
  return { date: day, exact: unknown.size === 0, unknownYears: [...unknown].sort() };
}

/** Working days after `from` up to and including `to` (0 when `to` is not after `from`). */
export function workingDaysBetween(from: string, to: string): number {
  let n = 0;
  for (let d = addDays(from, 1); d <= to; d = addDays(d, 1)) {
    const w = workingDay(d);
    if (w ?? ![0, 6].includes(parse(d).getUTCDay())) n++;
  }
  return n;
}

export interface DeadlineOptions {
  /** Number of certificates per issue date, for the messages. */
  readonly counts?: Readonly<Record<string, number>>;
}

/**
 * The deadline warnings of a batch: for each distinct issue date the upload deadline (第十三条) and the
 * refusal date (第十五条), and for a Beijing competition the end of the competition's year (seed 000).
 * `today` comes from the run's clock (a Date is taken as its calendar day in China).
 */
export function deadlineWarnings(
  issueDates: readonly string[],
  profile: Pick<Profile, 'kind' | 'competition' | 'numbering'>,
  today: Date | string,
  opts: DeadlineOptions = {},
): DeadlineWarning[] {
  const now = typeof today === 'string' ? (parse(today), today) : chinaDate(today);
  const out: DeadlineWarning[] = [];
  const dates = [...new Set(issueDates)].sort();
  const system = jurisdiction(profile) === 'beijing' ? 'the 北京市职业技能等级认定系统' : "the assessment centre's certification system";
  for (const issued of dates) {
    parse(issued);
    const n = opts.counts?.[issued];
    const what = n === undefined ? `the certificate data issued on ${issued}` : `the certificate data of the ${n} certificate(s) issued on ${issued}`;
    const upload = addWorkingDays(issued, UPLOAD_WORKING_DAYS);
    const estimate = upload.exact
      ? ''
      : ` This date is an estimate: ${upload.unknownYears.join(', ')} is beyond the holiday data of chinese-days (it ends with ${holidayDataLastYear()}), so the count took Monday-Friday as working days; check it against the State Council's holiday notice for ${upload.unknownYears.join(', ')} and update chinese-days.`;
    if (now <= upload.date) {
      const left = workingDaysBetween(now, upload.date);
      out.push({
        kind: 'data-upload',
        due: upload.date,
        message: `Submit ${what} through ${system} by ${upload.date} (${UPLOAD_WORKING_DAYS} working days from the issue date, 第十三条); ${left} working day(s) left.${estimate}`,
      });
    } else {
      out.push({
        kind: 'data-upload',
        due: upload.date,
        message: `Overdue: ${what} was due by ${upload.date} (${UPLOAD_WORKING_DAYS} working days from the issue date, 第十三条); submit it now with a written explanation of the delay (第十五条).${estimate}`,
      });
    }
    const refused = addMonths(issued, REFUSAL_MONTHS);
    out.push({
      kind: 'data-refused',
      due: refused,
      message:
        now <= refused
          ? `${capital(what)} is in principle no longer accepted after ${refused} (${REFUSAL_MONTHS} months from the issue date, 第十五条).`
          : `${capital(what)} is more than ${REFUSAL_MONTHS} months old (limit ${refused}): it is in principle not accepted any more (第十五条); ask the 市鉴定管理中心 before submitting.`,
    });
  }
  if (profile.kind === 'competition' && jurisdiction(profile) === 'beijing') {
    const year = profile.competition?.year ?? Number((dates[0] ?? now).slice(0, 4));
    const due = `${year}-12-31`;
    const late = dates.filter((d) => d > due);
    out.push({
      kind: 'competition-year',
      due,
      message:
        now > due || late.length
          ? `Too late: certificates of a ${year} competition must be applied for within ${year} (seed 000 四: 竞赛活动所处自然年内, 逾期不再办理)${late.length ? `, but the batch has issue dates ${late.join(', ')}` : `, and today is ${now}`}; ask the 北京市职业技能鉴定管理中心 before filing.`
          : `Apply for the competition certificates at the 北京市职业技能鉴定管理中心 by ${due}: within the competition's calendar year (seed 000 四); later applications are not handled.`,
    });
  }
  return out;
}

const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
