import type { Rule } from '../../src/engine/rule';
import DG601 from './DG601-network-call-at-parse-time';
import DG602 from './DG602-metadata-db-access';
import DG603 from './DG603-airflow-secret-config-read';
import DG604 from './DG604-secret-lookup-at-parse-time';
import DG605 from './DG605-file-write-at-parse-time';
import DG606 from './DG606-environment-dump';
import DG607 from './DG607-process-spawn-at-parse-time';
import DG608 from './DG608-reverse-shell';
import DG609 from './DG609-download-and-execute';
import DG610 from './DG610-trojan-source';
import DG611 from './DG611-invisible-or-confusable-identifier';
import DG612 from './DG612-airflow-monkeypatch';
import DG613 from './DG613-code-started-at-parse-time';
import DG614 from './DG614-credential-file-read';
import DG615 from './DG615-process-kill';
import DG616 from './DG616-crypto-miner';

export const rules: Rule[] = [DG601, DG602, DG603, DG604, DG605, DG606, DG607, DG608, DG609, DG610, DG611, DG612, DG613, DG614, DG615, DG616];
