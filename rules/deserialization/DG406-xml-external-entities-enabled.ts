import { callArgs, stringValue, unwrap } from '../../src/engine/python';
import { defineRule } from '../../src/engine/rule';

/** lxml parser options that make a parser fetch or expand external entities and DTDs. */
const RISKY_OPTIONS: ReadonlyMap<string, 'true' | 'false'> = new Map([
  ['resolve_entities', 'true'],
  ['load_dtd', 'true'],
  ['dtd_validation', 'true'],
  ['no_network', 'false'],
  ['huge_tree', 'true'],
]);

export default defineRule({
  meta: {
    id: 'DG406',
    name: 'xml-external-entities-enabled',
    category: 'unsafe-deserialization',
    severity: 'medium',
    message: 'XML parser configured to {what}: a document can read local files (XXE) or exhaust memory when it is parsed',
    aliases: ['B313', 'B314', 'B315', 'B316', 'B317', 'B318', 'B319', 'B320', 'S313', 'S314', 'S315', 'S316', 'S317', 'S318', 'S319', 'S320'],
    docs: {
      what:
        'Finds XML parsers set up to resolve what an attacker controls in the document: lxml `XMLParser(resolve_entities=True)`, `load_dtd=True`, `dtd_validation=True`, `no_network=False` or `huge_tree=True` (also `lxml.etree.XMLParser`/`lxml.objectify.makeparser`), and SAX parsers with `setFeature(feature_external_ges, True)` / `feature_external_pes`. The standard library\'s parsers with their defaults are not reported: since Python 3.7.1 with expat 2.4.1 they neither fetch external entities nor expand "billion laughs" (the XML vulnerabilities table of the Python documentation), and lxml 5 resolves only internal entities by default.',
      why:
        'DAG tasks parse XML fetched from partners, SOAP APIs and buckets. An external entity (`<!ENTITY x SYSTEM "file:///opt/airflow/airflow.cfg">`) read into the parsed data leaks the worker\'s configuration and secrets to whoever wrote the document; a DTD fetched over the network tells them the worker parsed it (and from where).',
      example: '```python\nfrom lxml import etree\nparser = etree.XMLParser(resolve_entities=True, no_network=False)\ntree = etree.fromstring(requests.get(feed_url, timeout=30).content, parser)\n```',
      useInstead: '```python\nimport defusedxml.ElementTree as ET           # or lxml with its defaults\ntree = ET.fromstring(requests.get(feed_url, timeout=30).content)\n```',
    },
  },
  calls: ['lxml.etree.XMLParser', 'lxml.etree.XMLPullParser', 'lxml.etree.iterparse', 'lxml.objectify.makeparser', '**.setFeature'],
  onCall(call, fn, ctx) {
    const a = callArgs(call);
    if (fn.endsWith('.setFeature')) {
      // parser.setFeature(handler.feature_external_ges, True)
      const feature = a.positional[0] ? (ctx.qualifiedName(a.positional[0]) ?? a.positional[0].text) : '';
      const on = a.positional[1] ? unwrap(a.positional[1]).type === 'true' : false;
      if (on && /feature_external_(ges|pes)$/.test(feature)) ctx.report(call, { what: `enable \`${feature.split('.').pop()}\` (external entities)` });
      return;
    }
    for (const [k, bad] of RISKY_OPTIONS) {
      const v = a.keywords.get(k);
      if (!v) continue;
      const n = unwrap(v);
      if (n.type === bad || (n.type === 'string' && stringValue(n) === bad)) {
        ctx.report(v.parent ?? call, { what: `\`${k}=${bad === 'true' ? 'True' : 'False'}\`` });
        return;
      }
    }
  },
});
