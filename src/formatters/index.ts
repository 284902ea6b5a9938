/** Output formats are plug-ins: add a Formatter and register it here. */
import { json } from './json';
import { text } from './text';
import type { Formatter } from './types';

export const FORMATTERS: Record<string, Formatter> = {
  text,
  json,
};

export type { FormatContext, Formatter } from './types';
