/** The lines of a text with the offset each starts at: what line-based checks of data files report ranges from. */
export function linesWithOffsets(text: string): { line: string; start: number }[] {
  const out: { line: string; start: number }[] = [];
  let start = 0;
  for (const line of text.split('\n')) {
    out.push({ line, start });
    start += line.length + 1;
  }
  return out;
}
