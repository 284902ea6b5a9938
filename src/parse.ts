import Parser = require('tree-sitter');
import { disableNodeCache, installFastNodeAccessors } from './engine/fast-nodes';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Python = require('tree-sitter-python');

let parser: Parser | null = null;

export function getLanguage(): Parser.Language {
  return Python;
}

/** One parser per thread, created on first use (loading the grammar costs a few milliseconds). */
export function parse(text: string): Parser.Tree {
  if (!parser) {
    parser = new Parser();
    parser.setLanguage(Python);
    installFastNodeAccessors(parser);
    disableNodeCache();
  }
  // The default 32 KiB chunk makes large files parse in many callbacks; one buffer the size of the file is faster.
  return parser.parse(text, undefined, { bufferSize: Math.max(32 * 1024, text.length * 2 + 16) });
}
