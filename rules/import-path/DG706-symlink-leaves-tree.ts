import { defineRule } from '../../src/engine/rule';

export default defineRule({
  meta: {
    id: 'DG706',
    name: 'symlink-leaves-tree',
    category: 'import-path',
    severity: 'critical',
    message: 'symbolic link whose real target is outside the checked tree (-> {target}): not followed, not checked',
    docs: {
      what:
        'Reports a symbolic link — to a file or a folder, directly or through other links — whose real path (resolved with `realpath`, not by reading the link text) is outside the checked tree. The target is never read or walked.',
      why:
        "What an outside link loads depends on the machine it is deployed to and on the moment: `h/up -> ../../..` then `h/evil.py -> up/<publish folder>/current/dags/payload.txt` looks harmless to a textual check and resolves, after the next publication, to whatever the attacker's next revision put there. A check can only vouch for files inside the tree it read; anything outside is unchecked code Airflow imports.",
      example: '```text\ndags/h/up -> ../../..\ndags/h/evil.py -> up/srv/airflow/current/dags/payload.txt\n```',
      useInstead: 'Commit the file itself, or a link that stays inside the repository. The gate publishes links inside the tree as regular files.',
    },
  },
  onPath(e, report) {
    if (e.kind === 'outside-link') report({ target: e.target || '?' });
  },
});
