import zlib from 'node:zlib'

// How the response cache keeps a body it holds packed (response-cache.ts): a pair of functions,
// chosen once per process. Zstandard at level 1 where the runtime has it (Node 22.15 and later),
// raw deflate at level 1 before that. On the benchmark's post pages (300 of them, 8 KB on average)
// both keep 36 % of the bytes, but Zstandard packed one in 42-52 µs against deflate's 75-134 µs
// and unpacked it in 14-20 µs against 19-34 µs (each call makes its compressor anew, and
// deflate's tables are the larger to set up). In the long tail that is some 11 µs a request of
// the API's 100-130 (bench/cpu-split.sh long-tail, V8 profile), since every stored entry is
// packed once and most hits unpack one.

export interface BodyPacking {
  readonly coding: 'zstd' | 'deflate'
  pack: (body: Buffer) => Buffer
  unpack: (packed: Buffer) => Buffer
}

// @types/node is Node 20's, which had no Zstandard: the functions as Node 22.15 has them.
interface ZstdRuntime {
  zstdCompressSync?: (body: Buffer, options: { params: Record<number, number> }) => Buffer
  zstdDecompressSync?: (packed: Buffer) => Buffer
  constants: { ZSTD_c_compressionLevel?: number }
}

export const deflatePacking: BodyPacking = {
  coding: 'deflate',
  pack: (body) => zlib.deflateRawSync(body, { level: 1 }),
  unpack: (packed) => zlib.inflateRawSync(packed)
}

/** Zstandard's packing, or undefined on a runtime without it. */
export function zstdPacking (runtime: ZstdRuntime = zlib as unknown as ZstdRuntime): BodyPacking | undefined {
  const { zstdCompressSync: compress, zstdDecompressSync: decompress } = runtime
  const level = runtime.constants.ZSTD_c_compressionLevel
  if (compress === undefined || decompress === undefined || level === undefined) return undefined
  const options = { params: { [level]: 1 } }
  return { coding: 'zstd', pack: (body) => compress(body, options), unpack: (packed) => decompress(packed) }
}

export const bodyPacking: BodyPacking = zstdPacking() ?? deflatePacking
