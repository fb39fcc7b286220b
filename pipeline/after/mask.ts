/**
 * Masking on the correction application form (附件4 北京市职业技能等级证书信息更正申请表): the sample shows names
 * as 李*刚 and 居民身份证 numbers as 210304********123X (first 6, last 4). 第十九条: the form travels by post and
 * mail, so it carries no more of the person than the office needs to find the record.
 */

/** 李刚 → 李*, 李小刚 → 李*刚, 阿依古丽·买买提 → 阿******提; by code points, so 𠮷 counts as one character. */
export function maskName(name: string): string {
  const chars = Array.from(name.trim());
  if (chars.length <= 1) return chars.join('');
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

/**
 * As in the sample for 18-character numbers (first 6 = the region, last 4); shorter documents (passports, permits)
 * keep only 2 and 2, so that at least half of a 9-character passport number is hidden.
 */
export function maskIdOnForm(idNo: string): string {
  const s = idNo.trim();
  if (s.length >= 15) return `${s.slice(0, 6)}${'*'.repeat(s.length - 10)}${s.slice(-4)}`;
  if (s.length >= 5) return `${s.slice(0, 2)}${'*'.repeat(s.length - 4)}${s.slice(-2)}`;
  return '*'.repeat(s.length);
}
