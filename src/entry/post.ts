// Entry of the post step (dist/post/index.js): its own bundle, so that nothing the post step
// runs can create a session or a run, whatever state the main step left (or did not leave).

import { runPost } from '../post.js';
import { runToEnd } from '../shared.js';

runToEnd(runPost());
