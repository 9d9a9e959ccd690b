// The one logging interface every module takes, and the adapter that writes it to the
// runner's log. Everything goes through neutralise(): text a server sent can be printed,
// never executed as a workflow command.

import * as core from '@actions/core';
import { neutralise } from './text.js';

export interface Log {
  info(line: string): void;
  warning(line: string): void;
  error(line: string): void;
  debug(line: string): void;
}

export const actionsLog: Log = {
  info: (line) => core.info(neutralise(line)),
  warning: (line) => core.warning(neutralise(line)),
  error: (line) => core.error(neutralise(line)),
  debug: (line) => core.debug(neutralise(line)),
};
