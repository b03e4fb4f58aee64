import { z } from 'zod'
import { SLUG_PATTERN } from './identifiers.ts'

export const SlugSchema = z.string().min(1).max(100)
  .regex(SLUG_PATTERN, 'must be lowercase letters, digits and single hyphens, like under-the-black-flag')
