// parse-srcset (which sanitize-html uses, and absolute-urls.ts too) prints every srcset it cannot
// parse to standard output with console.log, the attribute's whole value in it. Standard output
// is the API's JSON log stream (a body renderer thread's output goes there too): each such
// attribute in an article broke it with free text, and a value holding a newline and a line of
// JSON read as a log entry of the API's own. The library has no option to be quiet.

/** `run()` with console.log silenced; synchronous, so nothing else runs while it is. */
export function withConsoleLogSilenced<T> (run: () => T): T {
  const log = console.log
  console.log = () => {}
  try {
    return run()
  } finally {
    console.log = log
  }
}
