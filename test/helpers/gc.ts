import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

// A full collection on demand, for tests that count what is left on the heap or off it. The
// flag set at run time makes `gc` appear in contexts made after it, so tests need no node flag.
setFlagsFromString('--expose-gc')
export const gc = runInNewContext('gc') as () => void
