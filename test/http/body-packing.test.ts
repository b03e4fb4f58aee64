import { randomBytes } from 'node:crypto'
import zlib from 'node:zlib'
import t from 'tap'
import { bodyPacking, deflatePacking, zstdPacking, type BodyPacking } from '../../src/http/body-packing.ts'

// The response cache keeps bodies packed and serves them unpacked (its byte-for-byte tests go
// through whichever packing the runtime has); here each packing on its own, whatever the runtime.

const post = JSON.stringify({
  posts: [{
    id: '7f0c7ae4-5d39-4b8e-9a53-3c7f5f0c2c11',
    title: 'Under The Black Flag: «Ἀθῆναι», 東京, مرحبا, 🏴‍☠️',
    html: '<p>A long body, with an escaped "quote" and a \\ backslash.</p>'.repeat(120)
  }]
})
// Bodies of every kind the cache keeps: text in any script, one that does not compress, large.
const bodies: Array<[string, Buffer]> = [
  ['a post page', Buffer.from(post)],
  ['random bytes', randomBytes(4096)],
  ['one byte repeated (a high ratio)', Buffer.alloc(256 * 1024, 0x61)],
  ['2 MB of text', Buffer.from(post.repeat(Math.ceil(2_000_000 / post.length)))]
]

const packings: BodyPacking[] = [deflatePacking, ...[zstdPacking()].filter((packing) => packing !== undefined)]

for (const packing of packings) {
  t.test(`${packing.coding}: every body back byte for byte, text at under half its size`, async (t) => {
    for (const [name, body] of bodies) {
      const packed = packing.pack(body)
      t.ok(packing.unpack(packed).equals(body), `${name}: the same bytes`)
    }
    const page = bodies[0]![1]
    t.ok(packing.pack(page).length < page.length / 2, 'a post page at under half its size')
  })
}

t.test('Zstandard where the runtime has it, deflate where it does not', async (t) => {
  const runtimeHasZstd = typeof (zlib as unknown as { zstdCompressSync?: unknown }).zstdCompressSync === 'function'
  t.equal(bodyPacking.coding, runtimeHasZstd ? 'zstd' : 'deflate')
  t.equal(zstdPacking({ constants: {} }), undefined, 'a runtime without Zstandard gets none')
  t.equal(zstdPacking({ zstdCompressSync: (body) => body, zstdDecompressSync: (packed) => packed, constants: {} }), undefined, 'nor one missing its constants')
  // A Zstandard frame starts with its magic number, 0xFD2FB528 little-endian (RFC 8878 3.1.1).
  if (runtimeHasZstd) t.same([...bodyPacking.pack(bodies[0]![1]).subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], 'a Zstandard frame')
})
