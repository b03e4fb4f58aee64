import { recordTimes } from '../common/fields.ts'
import { blogWebsite, type SiteSettings } from '../common/site.ts'
import type { BlogRow } from './blogs.repository.ts'
import type { Blog } from './blogs.schemas.ts'

export function toBlog (row: BlogRow, site: SiteSettings): Blog {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    description: row.description,
    language: row.language,
    website_url: blogWebsite(row, site),
    post_url_template: row.post_url_template,
    logo_url: row.logo_url,
    icon_url: row.icon_url,
    cover_image_url: row.cover_image_url,
    social_accounts: row.social_accounts,
    ...recordTimes(row)
  }
}
