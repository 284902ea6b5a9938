/**
 * semgrep-style fixture annotations. A comment line `# ruleid: DG101` (`-- ruleid: DG101` in SQL) says the next code line has a DG101
 * finding; `# ok: DG101` says it has none. Several annotation lines stack onto the same code line, and one
 * line may list several ids (`# ruleid: DG101, DG102`).
 */
export interface Expectation {
  ruleId: string;
  line: number;
  expect: 'finding' | 'none';
}

const ANNOT = /^\s*(?:#|--)\s*(ruleid|ok)\s*:\s*([A-Za-z0-9_,\s-]+?)\s*$/;

export function parseAnnotations(text: string): Expectation[] {
  const lines = text.split('\n');
  const out: Expectation[] = [];
  let pending: { kind: string; ids: string[] }[] = [];
  lines.forEach((line, i) => {
    const m = ANNOT.exec(line);
    if (m) {
      pending.push({ kind: m[1], ids: m[2].split(',').map((s) => s.trim()).filter(Boolean) });
      return;
    }
    if (!pending.length || line.trim() === '') return;
    for (const p of pending) {
      for (const id of p.ids) out.push({ ruleId: id, line: i + 1, expect: p.kind === 'ruleid' ? 'finding' : 'none' });
    }
    pending = [];
  });
  return out;
}
