// Entry of the stop action (dist/stop/index.js, used by stop/action.yml): it can only stop.

import { runToEnd } from '../shared.js';
import { runStop } from '../stop.js';

runToEnd(runStop());
