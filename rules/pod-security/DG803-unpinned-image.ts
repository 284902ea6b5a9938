import { callArgs, stringValue } from '../../src/engine/python';
import { defineRule } from '../../src/engine/rule';

/** Operators and models that pull an image. */
const IMAGE_CALLS = ['**.KubernetesPodOperator', '**.DockerOperator', '**.V1Container', '**.GKEStartPodOperator', '**.EksPodOperator', 'airflow.**.task.kubernetes', 'airflow.**.task.docker'];

export default defineRule({
  meta: {
    id: 'DG803',
    name: 'unpinned-image',
    category: 'pod-security',
    severity: 'low',
    message: 'image `{image}` is {how}: what runs can change without a change to this DAG',
    docs: {
      what: 'Finds `image=` of `KubernetesPodOperator`, `DockerOperator`, `V1Container`, `@task.kubernetes`/`@task.docker` that has no tag or uses `:latest` (a digest `@sha256:…` or a version tag is fine).',
      why: 'A mutable tag means the code that runs with the task\'s credentials is whatever was last pushed to the registry, not what was reviewed with the DAG. Anyone who can push to the repository of the image can change the task.',
      example: '```python\nKubernetesPodOperator(task_id="load", image="registry.internal/loader:latest")\n```',
      useInstead: '```python\nKubernetesPodOperator(task_id="load", image="registry.internal/loader@sha256:4f3c…")  # or :1.4.2\n```',
    },
  },
  calls: IMAGE_CALLS,
  onCall(call, _fn, ctx) {
    const node = callArgs(call).keywords.get('image');
    const image = node ? stringValue(node) : null;
    if (!node || !image || image.includes('{{') || image.includes('@sha256:')) return;
    const name = image.slice(image.lastIndexOf('/') + 1);
    const tag = name.includes(':') ? name.slice(name.indexOf(':') + 1) : null;
    if (tag === null) ctx.report(node, { image, how: 'not pinned (no tag: `latest`)' });
    else if (tag === 'latest') ctx.report(node, { image, how: 'the mutable `latest` tag' });
  },
});
