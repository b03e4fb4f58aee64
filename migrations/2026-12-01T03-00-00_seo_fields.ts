import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// What search engines and social networks read about an article (meta title and description,
// canonical URL, Open Graph and X/Twitter cards, a noindex flag) and what a publication shows of
// itself (logo, icon, cover image, social accounts). All nullable or constant-defaulted: adding
// them is a catalog change, no table rewrite.

export async function up (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE posts
    ADD COLUMN meta_title text CHECK (length(meta_title) <= 300),
    ADD COLUMN meta_description text CHECK (length(meta_description) <= 1000),
    ADD COLUMN canonical_url text CHECK (canonical_url ~ '^https?://'),
    ADD COLUMN og_title text CHECK (length(og_title) <= 300),
    ADD COLUMN og_description text CHECK (length(og_description) <= 1000),
    ADD COLUMN og_image_url text CHECK (og_image_url ~ '^https?://'),
    ADD COLUMN twitter_title text CHECK (length(twitter_title) <= 300),
    ADD COLUMN twitter_description text CHECK (length(twitter_description) <= 1000),
    ADD COLUMN twitter_image_url text CHECK (twitter_image_url ~ '^https?://'),
    ADD COLUMN noindex boolean NOT NULL DEFAULT false`.execute(db)
  await sql`ALTER TABLE blogs
    ADD COLUMN logo_url text CHECK (logo_url ~ '^https?://'),
    ADD COLUMN icon_url text CHECK (icon_url ~ '^https?://'),
    ADD COLUMN cover_image_url text CHECK (cover_image_url ~ '^https?://'),
    ADD COLUMN social_accounts jsonb NOT NULL DEFAULT '[]'`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE posts DROP COLUMN meta_title, DROP COLUMN meta_description, DROP COLUMN canonical_url, DROP COLUMN og_title,
    DROP COLUMN og_description, DROP COLUMN og_image_url, DROP COLUMN twitter_title, DROP COLUMN twitter_description,
    DROP COLUMN twitter_image_url, DROP COLUMN noindex`.execute(db)
  await sql`ALTER TABLE blogs DROP COLUMN logo_url, DROP COLUMN icon_url, DROP COLUMN cover_image_url, DROP COLUMN social_accounts`.execute(db)
}
