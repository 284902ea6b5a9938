/** Output formats are plug-ins: add a Formatter and register it here. */
import { github } from './github';
import { json } from './json';
import { sarif } from './sarif';
import { text } from './text';
import type { Formatter } from './types';

export const FORMATTERS: Record<string, Formatter> = {
  text,
  json,
  sarif,
  github,
};

export type { FormatContext, Formatter } from './types';
