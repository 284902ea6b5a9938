/** Helpers shared by the path rules (DG7xx). */

/** The module name a file or folder is imported as: `m.py`, `m.pyc`, `m.cpython-311-x86_64-linux-gnu.so`, `m/`. */
export function moduleNameOf(name: string, kind: 'file' | 'dir' | 'outside-link'): string | null {
  if (kind === 'dir') return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : null;
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\.[^.]+)*\.(py|pyc|pyo|so|pyd)$/.exec(name);
  return m ? m[1] : null;
}
