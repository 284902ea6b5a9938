import { describe, expect, it } from 'vitest';
import { maskLine } from '../../src/formatters/source';

describe('maskLine: the source line shown under a finding', () => {
  it('masks password-like literals, a literal left open at the end of the line, and long letter+digit tokens', () => {
    expect(maskLine('pw = "Hx92kdPqZ"')).toBe('pw = "H********"');
    expect(maskLine('KEY = """MIIEvQIBADANBg')).not.toContain('MIIEvQIBADANBg');
    expect(maskLine('token AKIAIOSFODNN7EXAMPLE1 here')).not.toContain('IOSFODNN7EXAMPLE1');
  });

  it('a quote that closes a literal is not read as one that opens a literal running to the end of the line', () => {
    // before: `conf["arg"])(os)` showed as `conf["arg"******`
    expect(maskLine('    operator.methodcaller(conf["fn"], conf["arg"])(os)')).toBe('    operator.methodcaller(conf["fn"], conf["arg"])(os)');
    expect(maskLine('x = d["key"].strip()')).toBe('x = d["key"].strip()');
  });

  it('keeps the length, so the caret under the line still points at the right column', () => {
    const line = 'conn = connect("db", "S3cretValue!", port=5432)';
    expect(maskLine(line)).toHaveLength(line.length);
  });
});
