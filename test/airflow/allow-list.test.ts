/** The pattern check behind allow-list recognition (src/airflow/allow-list.ts): a forged "strict" pattern must fail. */
import { describe, expect, it } from 'vitest';
import { patternIsStrict } from '../../src/airflow/allow-list';

describe('patternIsStrict', () => {
  it.each([
    '[a-z0-9_-]+',
    '^[A-Za-z0-9_]{1,64}$',
    '\\w+',
    '\\d{4}-\\d{2}-\\d{2}',
    '(?:eu|us)_[a-z]+',
    '(?P<region>eu|us)\\.[a-z]+',
    'orders|customers',
  ])('%s admits only safe characters', (p) => {
    expect(patternIsStrict(p)).toBe(true);
  });

  it.each([
    '.+', // any character
    '[a-z; ]+', // ; and space
    '[^;]+', // negated class
    '\\S+', // anything but whitespace
    '\\s*[a-z]+', // whitespace
    '[+-z]+', // a range over punctuation
    '[!-~]+',
    '[a-z]+(?=x)', // lookaround: not analysed
    '(?i)[a-z]+', // flags: not analysed
    '[a-z', // unterminated class
    'a{1,x}',
    '\\', // dangling escape
    'rm -rf /',
  ])('%s is not strict', (p) => {
    expect(patternIsStrict(p)).toBe(false);
  });
});
