/**
 * Which number formats make a number a date. A .xlsx stores a date as a plain serial number; only its cell style's
 * number format says that the user sees 2026-11-20 and not 46346 (ECMA-376 Part 1, §18.8.30 numFmt).
 */

/**
 * Built-in formats that show a date or a time: 14–22 everywhere, and in the Chinese, Japanese and Korean
 * editions 27–36 and 50–58 (e.g. 31 = yyyy"年"m"月"d"日", 32 = h"时"mm"分"), 45–47 the minute/second formats.
 */
export function isBuiltInDateFormat(id: number): boolean {
  return (id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) || (id >= 50 && id <= 58);
}

/**
 * A custom format code shows a date or time when it has a y, m, d, h or s outside quoted literals ("年"),
 * escaped characters (\-), padding and fill (_) *x) and brackets ([Red], [$-804], [DBNum1]).
 */
export function isDateFormatCode(code: string): boolean {
  const bare = code
    .replace(/"[^"]*"/g, '')
    .replace(/\\./g, '')
    .replace(/[_*]./g, '')
    .replace(/\[[^\]]*\]/g, '');
  return /[ymdhs]/i.test(bare);
}
