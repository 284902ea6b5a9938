import { callArgs, isConstant, stringValue, unwrap } from '../../src/engine/python';
import { defineRule } from '../../src/engine/rule';

const STDLIB = ['xml.etree.ElementTree', 'xml.etree.cElementTree', 'xml.dom.minidom', 'xml.dom.pulldom', 'xml.sax'];
const STDLIB_CALLS = ['parse', 'fromstring', 'iterparse', 'XML', 'parseString', 'fromstringlist'];
const LXML_CALLS = ['lxml.etree.parse', 'lxml.etree.fromstring', 'lxml.etree.XML', 'lxml.etree.iterparse', 'lxml.etree.fromstringlist'];

export default defineRule({
  meta: {
    id: 'DG406',
    name: 'xml-parser-on-untrusted-data',
    category: 'unsafe-deserialization',
    severity: 'low',
    message: '`{fn}` parses XML that is not a constant with a parser that {risk}; use defusedxml',
    aliases: ['B313', 'B314', 'B315', 'B316', 'B317', 'B318', 'B319', 'B320', 'S313', 'S314', 'S315', 'S316', 'S317', 'S318', 'S319', 'S320'],
    docs: {
      what:
        'Finds XML parsed from anything but a constant: `xml.etree.ElementTree` (`parse`, `fromstring`, `iterparse`, `XML`), `xml.dom.minidom`/`pulldom` (`parse`, `parseString`), `xml.sax` (`parse`, `parseString`) — *low* — and `lxml.etree` (`parse`, `fromstring`, `XML`, `iterparse`) — *medium*, since lxml resolves external entities by default; an lxml call given its own `parser=` is not reported (it is usually one with `resolve_entities=False`). `defusedxml.*` is the fix and is never reported.',
      why:
        'DAG tasks parse XML fetched from partners, SOAP APIs and buckets. With lxml, an external entity (`<!ENTITY x SYSTEM "file:///opt/airflow/airflow.cfg">`) reads local files — the worker\'s configuration and secrets — into the parsed data (XXE); entity expansion (billion laughs) exhausts the worker\'s memory with the standard library too.',
      example: '```python\nfrom lxml import etree\ntree = etree.fromstring(requests.get(feed_url, timeout=30).content)\n```',
      useInstead: '```python\nimport defusedxml.ElementTree as ET\ntree = ET.fromstring(requests.get(feed_url, timeout=30).content)\n```',
    },
  },
  calls: [...STDLIB.flatMap((m) => STDLIB_CALLS.map((f) => `${m}.${f}`)), ...LXML_CALLS],
  onCall(call, fn, ctx) {
    const a = callArgs(call);
    const src = a.positional[0] ?? a.keywords.get('source') ?? a.keywords.get('text') ?? a.keywords.get('string');
    if (!src || isConstant(src) || stringValue(unwrap(src)) !== null) return;
    const lxml = fn.startsWith('lxml.');
    if (lxml && (a.keywords.has('parser') || a.positional.length > 1)) return;
    ctx.report(call, { fn: fn.replace(/^xml\.etree\.ElementTree\./, 'ElementTree.'), risk: lxml ? 'resolves external entities (XXE: local files read into the data)' : 'expands entities without limit (memory exhaustion)' }, { severity: lxml ? 'medium' : 'low' });
  },
});
