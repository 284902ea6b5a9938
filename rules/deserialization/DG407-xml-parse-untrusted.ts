import { defineRule } from '../../src/engine/rule';
import { callArgs } from '../../src/engine/python';
import { provenance } from '../../src/airflow/provenance';
import { originWords, snippet } from '../shell-injection/_util';

export default defineRule({
  meta: {
    id: 'DG407',
    name: 'xml-parse-untrusted',
    category: 'unsafe-deserialization',
    severity: 'low',
    message: '`{fn}` parses XML from {origin} (`{value}`) with a parser built on libexpat: entity expansion is bounded only by the libexpat the worker\'s Python links against; use defusedxml',
    docs: {
      what:
        'Finds XML from outside — an HTTP response, a bucket or SFTP object, trigger input, another task\'s output — parsed with the standard library\'s expat-based parsers (`xml.etree.ElementTree.fromstring`/`parse`/`iterparse`/`XML`, `xml.dom.minidom`, `xml.sax`, `xml.dom.pulldom`, `xmltodict.parse`). *Low*. XML of constant or unknown origin is not reported, nor lxml with its defaults (which limits entity expansion itself); parsers configured to resolve external entities are DG406\'s.',
      why:
        'Those parsers never fetch external entities, but they expand internal ones: a few hundred bytes of nested entities ("billion laughs") or a quadratic blow-up take the worker\'s memory and CPU. libexpat 2.4.1 (2021) added the amplification limits; a Python linked against an older system libexpat (Debian bullseye-based images ship 2.2.10) has none, and which one a worker image carries is not visible in the DAG. defusedxml refuses entity declarations whatever the libexpat.',
      example: '```python\nimport xml.etree.ElementTree as ET\nroot = ET.fromstring(requests.get(sitemap_url, timeout=60).content)\n```',
      useInstead: '```python\nimport defusedxml.ElementTree as ET\nroot = ET.fromstring(requests.get(sitemap_url, timeout=60).content)\n```',
    },
  },
  calls: [
    'xml.etree.ElementTree.fromstring', 'xml.etree.ElementTree.parse', 'xml.etree.ElementTree.iterparse', 'xml.etree.ElementTree.XML',
    'xml.etree.cElementTree.fromstring', 'xml.etree.cElementTree.parse', 'xml.dom.minidom.parseString', 'xml.dom.minidom.parse',
    'xml.sax.parseString', 'xml.sax.parse', 'xml.dom.pulldom.parseString', 'xml.dom.pulldom.parse', 'xmltodict.parse',
  ],
  onCall(call, fn, ctx) {
    const a = callArgs(call);
    const doc = a.positional[0] ?? a.keywords.get('source') ?? a.keywords.get('text') ?? a.keywords.get('string') ?? a.keywords.get('xml_input');
    if (!doc) return;
    const p = provenance(doc, ctx);
    const o = p.trust === 'user' || p.trust === 'external' || p.trust === 'xcom' ? p : p.also?.trust === 'external' || p.also?.trust === 'xcom' ? p.also : null;
    if (!o) return;
    ctx.report(call, { fn: fn.replace(/^xml\.etree\.c?ElementTree\./, 'ElementTree.'), origin: originWords(o.trust), value: snippet(o.node) });
  },
});
