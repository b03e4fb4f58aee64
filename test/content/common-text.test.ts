import t from 'tap'
import { cutText } from '../../src/content/common/text.ts'

// Text cut to a limit never ends in half a character: a surrogate pair (an emoji, a Han
// character beyond the basic plane) is kept whole or left out.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

t.test('a cut falls between characters', async (t) => {
  t.equal(cutText('short', 10), 'short', 'shorter than the limit: as it is')
  t.equal(cutText('abcdef', 3), 'abc')
  for (const astral of ['😀', '𠮷', '🏴‍☠️']) {
    const text = `ab${astral}cd`
    for (let max = 1; max <= text.length; max++) {
      const cut = cutText(text, max)
      t.ok(cut.length <= max && text.startsWith(cut) && !LONE_SURROGATE.test(cut), `${JSON.stringify(text)} at ${max}: ${JSON.stringify(cut)}`)
      t.ok(cut.length >= max - 1, 'and loses at most the half it would have split')
    }
  }
})
