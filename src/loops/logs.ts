// Trainer and sampler log lines, as GET /v1/loops/deployments/{id}/logs (and the sampler's model
// deployment logs route) give them. Timestamps stay strings: epoch nanoseconds do not fit a number.

import { ShapeError } from '../core/errors.js';
import { array, object, optionalString } from './types.js';

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One line of a trainer's or sampler's logs. */
export interface LogLine {
  /** Epoch nanoseconds, digits only, as the API sends them (a number would lose the last digits). */
  timestamp: string;
  message: string;
  replica?: string;
  /** Absent when the line has none, or one this action does not know. */
  level?: LogLevel;
}

/** `{logs: [{timestamp, message, replica, level?}]}`; a line that breaks the description is named, not guessed at. */
export function parseLogs(body: unknown): LogLine[] {
  return array(object(body, 'body'), 'logs', 'body').map((item, i) => {
    const line = object(item, `logs[${i}]`);
    const timestamp = line.timestamp;
    if (typeof timestamp !== 'string' || !/^\d{1,30}$/.test(timestamp)) throw new ShapeError(`logs[${i}].timestamp is not epoch nanoseconds`);
    if (typeof line.message !== 'string')
      throw new ShapeError(`logs[${i}].message is ${line.message === undefined ? 'missing' : 'not a string'}`);
    const level = typeof line.level === 'string' ? line.level.toUpperCase() : undefined;
    return {
      timestamp,
      message: line.message,
      replica: optionalString(line, 'replica'),
      level: LOG_LEVELS.find((known) => known === level),
    };
  });
}
