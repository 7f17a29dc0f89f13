// Processes started by this test process (or by a server it started), read from /proc (Linux).
import fs from 'node:fs';

/** Pids of the live children of `parent` (this process by default) whose command line includes `marker`. */
export function childProcesses(marker: string, parent = process.pid): number[] {
  return fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).filter((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return ppid === parent && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
    } catch {
      return false;
    }
  }).map(Number);
}
