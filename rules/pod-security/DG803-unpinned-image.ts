import type { SyntaxNode } from 'tree-sitter';
import { callArgs, unwrap } from '../../src/engine/python';
import { singleBinding } from '../../src/airflow/provenance';
import { foldedText, literalOf } from '../../src/airflow/strings';
import { defineRule } from '../../src/engine/rule';
import { possibleStrings, possibleValues } from '../../src/airflow/constants';
import type { RuleContext } from '../../src/engine/context';

/** Operators and models that pull an image. */
const OPERATORS = ['**.KubernetesPodOperator', '**.DockerOperator', '**.GKEStartPodOperator', '**.EksPodOperator'];
const IMAGE_CALLS = [...OPERATORS, ...OPERATORS.map((o) => `${o}.partial`), '**.V1Container', 'airflow.**.task.kubernetes', 'airflow.**.task.docker'];

/** The string literal a name in the image expression is bound to whose text ends with `suffix`, if any. */
function constantHolding(node: SyntaxNode, suffix: string): SyntaxNode | null {
  const u = unwrap(node);
  const names = u.type === 'identifier' ? [u] : u.type === 'string' ? u.descendantsOfType('identifier') : [];
  for (const id of names) {
    const v = singleBinding(id);
    const text = v ? literalOf(v) : null;
    if (v && text !== null && text.endsWith(suffix)) return unwrap(v);
  }
  return null;
}

/** The image reference as far as the file shows it: a literal, a name bound to one, or an f-string/`.format` of them (`{…}` where not). */
function imageText(node: SyntaxNode): string | null {
  const u = unwrap(node);
  const v = u.type === 'identifier' ? (singleBinding(u) ?? u) : u;
  return literalOf(v) ?? (v.type === 'string' || v.type === 'call' ? foldedText(unwrap(v)) : null);
}

/** The constant values of the field that ends an f-string image (`{cfg['tag']}` in `f"{REPO}:{cfg['tag']}"`). */
function tagConstants(node: SyntaxNode, ctx: RuleContext): { text: string; node: SyntaxNode }[] | null {
  let u = unwrap(node);
  if (u.type === 'identifier') u = singleBinding(u) ?? u;
  if (u.type !== 'string') return null;
  const parts = u.namedChildren.filter((c) => c.type === 'string_content' || c.type === 'interpolation');
  const last = parts[parts.length - 1];
  const expr = last?.type === 'interpolation' ? last.namedChildren.find((x) => x.type !== 'type_conversion' && x.type !== 'format_specifier') : null;
  return expr ? possibleStrings(expr, ctx) : null;
}

export default defineRule({
  meta: {
    id: 'DG803',
    name: 'unpinned-image',
    category: 'pod-security',
    severity: 'low',
    message: 'image `{image}` is {how}: what runs can change without a change to this DAG',
    docs: {
      what: 'Finds `image=` of `KubernetesPodOperator`, `DockerOperator`, `V1Container`, `@task.kubernetes`/`@task.docker` (also their `.partial(…)` for mapped tasks; the image written in place, through a name, in an f-string of constants such as `f"{REGISTRY}/app:{TAG}"`, taken from a settings dict such as `image=renderer["image"]`, or with its tag chosen by a DAG factory\'s config, `f"{REPO}:{cfg[\'tag\']}"` with `"tag": "latest"` in the dict the factory is looped over — then reported at the constant that says `latest`) that has no tag or uses `:latest` (a digest `@sha256:…` or a version tag is fine).',
      why: 'A mutable tag means the code that runs with the task\'s credentials is whatever was last pushed to the registry, not what was reviewed with the DAG. Anyone who can push to the repository of the image can change the task.',
      example: '```python\nKubernetesPodOperator(task_id="load", image="registry.internal/loader:latest")\n```',
      useInstead: '```python\nKubernetesPodOperator(task_id="load", image="registry.internal/loader@sha256:4f3c…")  # or :1.4.2\n```',
    },
  },
  calls: IMAGE_CALLS,
  onCall(call, _fn, ctx) {
    const node = callArgs(call).keywords.get('image');
    // an image taken from a settings dict (`image=renderer["image"]` with `renderer=RENDERER` by default)
    if (node && imageText(node) === null) {
      for (const v of possibleValues(node, ctx) ?? []) {
        const text = imageText(v);
        if (text && /:latest$/.test(text) && ctx.once(v)) ctx.report(v, { image: text, how: 'the mutable `latest` tag' });
      }
      return;
    }
    const image = node ? imageText(node) : null;
    if (!node || !image || image.includes('{{') || image.includes('@sha256:')) return;
    const name = image.slice(image.lastIndexOf('/') + 1);
    const tag = name.includes(':') ? name.slice(name.indexOf(':') + 1) : null;
    // a tag chosen by a settings table or a factory's config (`f"{REPO}:{cfg['tag']}"` with `"tag": "latest"` in the
    // dict the factory is looped over): reported at the constant that says `latest`
    if (tag === '{…}') {
      const latest = tagConstants(node, ctx)?.find((t) => t.text === 'latest');
      if (latest && ctx.once(latest.node)) ctx.report(latest.node, { image: image.replace(/\{…\}$/, 'latest'), how: 'the mutable `latest` tag' });
      return;
    }
    // a part the file does not show (`{…}`) may hold the tag or the digest: not judged
    if (name.includes('{…}') || (tag === null && image.includes('{…}'))) return;
    if (tag !== null && tag !== 'latest') return;
    // at the constant that sets it when the image or its tag comes from one (`ENRICH_TAG = "latest"`: the line to
    // fix, whichever operators use it — reported once)
    const at = tag === 'latest' ? (constantHolding(node, ':latest') ?? constantHolding(node, 'latest') ?? node) : (constantHolding(node, image) ?? node);
    if (!ctx.once(at) && at !== node) return;
    ctx.report(at, { image, how: tag === null ? 'not pinned (no tag: `latest`)' : 'the mutable `latest` tag' });
  },
});
