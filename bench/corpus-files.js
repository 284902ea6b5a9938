'use strict';
/** The `*.py` files under a corpus folder, sorted, skipping hidden and `__pycache__` folders (shared by the bench scripts). */
const fs = require('node:fs');
const path = require('node:path');

function pyFiles(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === '__pycache__') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) pyFiles(p, out);
    else if (e.isFile() && e.name.endsWith('.py')) out.push(p);
  }
  return out;
}

module.exports = { pyFiles: (dir) => pyFiles(dir).sort() };
