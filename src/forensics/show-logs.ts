// The show_logs input's values: when a run's logs are read. Its own module, importing nothing, so
// that the inputs parser (which the eval report shares) never reaches the Loops client.

export const SHOW_LOGS = ['on_failure', 'always', 'never'] as const;
export type ShowLogs = (typeof SHOW_LOGS)[number];
