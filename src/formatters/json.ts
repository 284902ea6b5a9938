import type { Formatter } from './types';

/** The JSON report contract (docs/json-report.md). The internal fingerprint is kept: baselines use it. */
export const json: Formatter = (report) => JSON.stringify(report, null, 2) + '\n';
