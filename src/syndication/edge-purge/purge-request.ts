import type { Config } from '../../config.ts'

// The purge requests an edge cache understands, by EDGE_PURGE_STYLE:
// - xkey: Varnish with vmod xkey; the VCL (deploy/varnish/default.vcl) takes PURGE with the
//   keys, space-separated, in `xkey-purge` and calls xkey.purge() on them.
// - fastly: Fastly's purge by surrogate key, POST /service/<id>/purge with the keys in
//   `Surrogate-Key` (at most 256 per request) and the API token in `Fastly-Key`.

type PurgeTarget = NonNullable<Config['edgePurge']>

/** Keys per request: Fastly takes up to 256; headers stay far under common 8 KB limits (keys are <= 45 characters). */
export const KEYS_PER_REQUEST = 128

export function purgeRequest (target: PurgeTarget, keys: readonly string[]): { url: string, init: RequestInit } {
  const list = keys.join(' ')
  if (target.style === 'fastly') {
    return {
      url: target.url,
      init: {
        method: 'POST',
        headers: { 'surrogate-key': list, accept: 'application/json', ...(target.token === undefined ? {} : { 'fastly-key': target.token }) }
      }
    }
  }
  return {
    url: target.url,
    init: { method: 'PURGE', headers: { 'xkey-purge': list, ...(target.token === undefined ? {} : { authorization: `Bearer ${target.token}` }) } }
  }
}
