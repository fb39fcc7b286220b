import test from 'ava';
import { beijing, competition, detectRule, RULES, ruleById, ruleFor, validateAny } from '../../pipeline/number/index.js';
import { SkillcertError } from '../../pipeline/core/errors.js';

test('both jurisdictions are registered and found by id and by profile', (t) => {
  t.deepEqual(RULES.map((r) => r.id), ['beijing', 'competition']);
  t.is(ruleById('beijing'), beijing);
  t.is(ruleFor({ numbering: { rule: 'competition', province: '51', region: '00', issuer: '9999' } }), competition);
});

test('an unknown rule id is an E_USAGE error listing the known rules', (t) => {
  const err = t.throws(() => ruleById('shanghai'), { instanceOf: SkillcertError });
  t.is(err?.code, 'E_USAGE');
  t.regex(err?.message ?? '', /known rules: beijing, competition/);
});

test('detectRule tells a Beijing number from a competition number and refuses garbage', (t) => {
  t.is(detectRule('Y000111020001225000001'), beijing);
  t.is(detectRule('S000151009999223J00001'), competition);
  t.is(detectRule('Y000111020001227000001'), undefined);
  t.is(detectRule(''), undefined);
});

test('validateAny reports the failure of the rule that read furthest', (t) => {
  const v = validateAny('Y000111020001225000000');
  t.false(v.ok);
  if (!v.ok) {
    t.is(v.rule, beijing);
    t.is(v.position, 17);
  }
  const c = validateAny('S000151009999223J00000');
  t.false(c.ok);
  if (!c.ok) {
    t.is(c.rule, competition);
    t.is(c.position, 18);
  }
});

test('the two rules never both accept one number', (t) => {
  for (const n of ['Y000111020001225000001', 'S000011082003225000001', 'S000151009999223J00001', 'Y000111020001225J00001']) {
    t.is(RULES.filter((r) => r.validate(n).ok).length, 1, n);
  }
});
