import { defineRule } from '../../src/engine/rule';

export default defineRule({
  meta: {
    id: 'DG402',
    name: 'marshal-deserialization',
    category: 'unsafe-deserialization',
    severity: 'medium',
    parseTime: 'high',
    message: '`{fn}` reads marshal data: it is not safe against crafted input and is how code objects are smuggled',
    aliases: ['B302', 'S302'],
    docs: {
      what: 'Finds `marshal.load` and `marshal.loads`, through import aliases. Severity is high when the call runs at parse time.',
      why:
        'The marshal format is CPython\'s internal serialization of code objects; the documentation warns it is "not intended to be secure against erroneous or maliciously constructed data". DAG code has no business reading it: its one common use in the wild is `exec(marshal.loads(zlib.decompress(b64decode(...))))`, the classic way to hide a payload in a Python file.',
      example: '```python\nimport marshal, zlib, base64\ncode = marshal.loads(zlib.decompress(base64.b64decode(BLOB)))\nexec(code)\n```',
      useInstead: '```python\nimport json\nconfig = json.loads(raw)  # data formats for data; code belongs in reviewed source files\n```',
    },
  },
  calls: ['marshal.load', 'marshal.loads'],
  onCall(call, fn, ctx) {
    ctx.report(call, { fn });
  },
});
