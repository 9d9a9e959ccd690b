// Fallback for systems without GNU time: preloaded with --import, writes the process's peak
// RSS (KiB, from getrusage) to $BENCH_MAXRSS_FILE as it exits.
import { writeFileSync } from 'node:fs';
import process from 'node:process';

process.on('exit', () => writeFileSync(process.env.BENCH_MAXRSS_FILE, String(process.resourceUsage().maxRSS)));
