// Entry of the eval report action (dist/report/index.js, used by report/action.yml): it reads the
// scores and writes to GitHub; it never talks to Loops.

import { runToEnd } from '../core/step-io.js';
import { runReport } from '../eval/report.js';

runToEnd(runReport());
