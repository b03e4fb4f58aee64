import type { FastifyRequest } from 'fastify'

// The media types a request body may have. A PATCH body here is a JSON Merge Patch (RFC 7396)
// whichever of its two types it is sent as: a field left out stays, null clears a field that may
// be null (a 400 names any other), an array replaces the list. Only a post's lead image differs:
// as application/json an object replaces the image whole (what editors' forms send), as
// application/merge-patch+json it merges into it.

export const BODY_MEDIA_TYPES = ['application/json'] as const
export const PATCH_MEDIA_TYPES = ['application/merge-patch+json', 'application/json'] as const

/** The types a method's body may have, as Accept and Accept-Patch list them. */
export function mediaTypesTaken (method: string): { types: readonly string[], list: string } {
  return method.toUpperCase() === 'PATCH' ? PATCH_TYPES : BODY_TYPES
}
const BODY_TYPES = { types: BODY_MEDIA_TYPES, list: BODY_MEDIA_TYPES.join(', ') }
const PATCH_TYPES = { types: PATCH_MEDIA_TYPES, list: PATCH_MEDIA_TYPES.join(', ') }

/** Whether the body was sent as application/merge-patch+json. */
export function isMergePatch (request: Pick<FastifyRequest, 'headers'>): boolean {
  return /^application\/merge-patch\+json\s*(;|$)/i.test(request.headers['content-type'] ?? '')
}
