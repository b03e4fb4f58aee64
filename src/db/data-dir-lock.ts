import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs'
import path from 'node:path'

// The embedded database is PostgreSQL running inside one process, with no postmaster to keep a
// second one off its files, and PGlite takes no lock of its own (electric-sql/pglite#1106). A
// second process that opens the same directory, such as the command line's `keys create` while
// `npm start` runs (what the README's first steps invite), or a second `npm start`, replays and
// writes the write-ahead log and pg_control under the live server: beside a server taking
// writes, the command line aborted in five runs of five ("Aborted()"), and others report data
// directories that no longer open. So the directory is locked the way PostgreSQL locks its own:
// a file holding the process id, taken with an exclusive create, and taken over only when that
// process is gone (a crash, a kill -9). Not a lock that expires by time (proper-lockfile's):
// PGlite runs each statement synchronously, so a long migration blocks the timer that would
// keep such a lock fresh, and another process would take it over mid-write.

export class DataDirectoryInUse extends Error {
  override name = 'DataDirectoryInUse'
}

/** Directories this process holds: a second open in the same process is refused as well. */
const held = new Set<string>()

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The process id in the lock file; 'starting' when it holds none yet but was made in the last
 * few seconds (its process is between creating and writing it); undefined when it is gone or
 * an older one holds nothing.
 */
function holderOf (file: string): number | 'starting' | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10)
    if (Number.isInteger(pid) && pid > 0) return pid
    return Date.now() - statSync(file).mtimeMs < 10_000 ? 'starting' : undefined
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/**
 * Locks `directory` (an embedded database's DATA_DIR) for this process, or throws
 * DataDirectoryInUse naming the process that holds it. Returns the release, which is also run
 * when the process exits.
 */
export function lockDataDirectory (directory: string): () => void {
  const file = path.join(path.resolve(directory), 'pglite.pid')
  const inUse = (holder: number | string) => new DataDirectoryInUse(
    `The embedded database in ${path.resolve(directory)} is open in ${holder}. It can be open in one process at a time: ` +
    'stop the server (or the command) using it first, or give this one another DATA_DIR. ' +
    `If no such process runs, delete ${file}.`)
  if (held.has(file)) throw inUse('this process already')
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx')
      try { writeSync(fd, `${process.pid}\n`) } finally { closeSync(fd) }
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt === 3) throw error
      const holder = holderOf(file)
      if (holder === 'starting') throw inUse('another process, starting')
      // Its own id in the file is a lock left by an earlier process that had the same id (a
      // container's first process is the same pid after every restart); this process holds none.
      if (holder !== undefined && holder !== process.pid && alive(holder)) throw inUse(`process ${holder}`)
      try { unlinkSync(file) } catch (unlinkError) { if ((unlinkError as NodeJS.ErrnoException).code !== 'ENOENT') throw unlinkError }
    }
  }
  held.add(file)
  const release = () => {
    process.off('exit', release)
    if (!held.delete(file)) return
    try {
      if (holderOf(file) === process.pid) unlinkSync(file)
    } catch { /* gone already: nothing to release */ }
  }
  process.on('exit', release)
  return release
}
