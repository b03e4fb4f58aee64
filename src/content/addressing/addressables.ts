import { findAuthor, type AuthorRow } from '../authors/authors.repository.ts'
import { findBlog, type BlogRow } from '../blogs/blogs.repository.ts'
import { findTag, type TagRow } from '../tags/tags.repository.ts'
import type { Addressable } from './find-or-redirect.ts'

// The resources a path segment or a reference can name by id or slug.

// Blog rows are the blogs table alone: safe to keep in memory between changes.
export const BLOGS = { entity: 'blog', label: 'Blog', find: findBlog, memo: true } as const satisfies Addressable<BlogRow>
export const AUTHORS = { entity: 'author', label: 'Author', find: findAuthor } as const satisfies Addressable<AuthorRow>
export const TAGS = { entity: 'tag', label: 'Tag', find: findTag } as const satisfies Addressable<TagRow>
