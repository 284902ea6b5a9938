'use strict';
/** What the bench scripts share: the built modules (`npm run build` first) and a numeric `--name N` option. */
const path = require('node:path');

/** A module of the build: `built('src', 'engine', 'analyze')`. */
function built(...segments) {
  return require(path.join(__dirname, '..', 'dist', ...segments));
}

/** Removes `--name N` from `args` and returns N, or `dflt` when absent. */
function numberOption(args, name, dflt) {
  const i = args.indexOf(name);
  return i < 0 ? dflt : parseInt(args.splice(i, 2)[1], 10);
}

module.exports = { built, numberOption };
