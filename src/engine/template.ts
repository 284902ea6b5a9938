/** Message templates: `{field}` is replaced by the field's value. A missing field is a bug in the rule: it throws. */
export type Fields = Record<string, string | number>;

const FIELD = /\{(\w+)\}/g;

export function fillTemplate(template: string, fields: Fields = {}, owner = 'message'): string {
  return template.replace(FIELD, (_, name: string) => {
    const v = fields[name];
    if (v === undefined) throw new Error(`${owner}: no value for the message field {${name}}`);
    return String(v);
  });
}

/** The template as documentation: `{fn}` shown as `<fn>`. */
export function showTemplate(template: string): string {
  return template.replace(FIELD, (_, name: string) => `<${name}>`);
}

/** The field names a template uses. */
export function templateFields(template: string): string[] {
  return [...template.matchAll(FIELD)].map((m) => m[1]);
}

/** Appended to a finding's message by parse-time escalation (`meta.parseTime`). */
export const PARSE_TIME_NOTE = ' — at parse time, in the dag-processor';
