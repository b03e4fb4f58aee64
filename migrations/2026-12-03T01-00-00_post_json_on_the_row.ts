import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// Three runs of a post's JSON, as the API sends them, kept on its row: the members from title
// to tags (json_summary), from published_at into the SEO object up to its canonical URL
// (json_dates_seo), and the SEO members after it (json_seo_rest). Their text depends on the row
// alone, so a BEFORE trigger writes them with every insert and update, whichever columns it
// touches (the byline summaries' triggers update the row too). Building a page's JSON was two
// thirds escaping these members again on every read. post-json.repository.ts computes the same
// text for posts that have none, and test/content/posts/post-json.test.ts holds the two equal.
//
// Of the posts already there, the ones lists read most get their runs now: the newest published
// and every post scheduled for later, the window the list_fields_on_the_row migration rewrote
// (at 1,000,000 posts, some 40,000 of them); older ones when they are next written.

const REWRITE_NEWEST = 20_000

export async function up (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE posts ADD COLUMN json_summary text, ADD COLUMN json_dates_seo text, ADD COLUMN json_seo_rest text`.execute(db)
  // EXTENDED, the default: they stay on the row with the fields they are made of while it fits a
  // page (toast_tuple_target, search_vector_inline), and are the first to be compressed or moved
  // out when it does not, before the search vector and the list fields (MAIN) would be. A copy,
  // then, costs a long article's reads a detoast; never the walk of a search.
  await sql`CREATE FUNCTION posts_json_runs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.json_summary := concat(
    ',"title":', coalesce(to_json(NEW.title)::text, 'null'),
    ',"subtitle":', coalesce(to_json(NEW.subtitle)::text, 'null'),
    ',"excerpt":', coalesce(to_json(NEW.excerpt)::text, 'null'),
    ',"word_count":', coalesce(to_json(NEW.word_count)::text, 'null'),
    ',"reading_time_minutes":', coalesce(to_json(CASE WHEN NEW.word_count = 0 THEN 0 ELSE greatest(1, round(NEW.word_count / 230::numeric))::integer END)::text, 'null'),
    ',"lead_image":', coalesce(CASE WHEN NEW.lead_image_url IS NOT NULL THEN concat(
      '{"url":', coalesce(to_json(NEW.lead_image_url)::text, 'null'),
      ',"alt":', coalesce(to_json(NEW.lead_image_alt)::text, 'null'),
      ',"caption":', coalesce(to_json(NEW.lead_image_caption)::text, 'null'),
      ',"credit":', coalesce(to_json(NEW.lead_image_credit)::text, 'null'),
      ',"width":', coalesce(to_json(NEW.lead_image_width)::text, 'null'),
      ',"height":', coalesce(to_json(NEW.lead_image_height)::text, 'null'), '}') END, 'null'),
    ',"language":', coalesce(to_json(NEW.language)::text, 'null'),
    ',"is_breaking":', coalesce(to_json(NEW.is_breaking)::text, 'null'),
    ',"is_featured":', coalesce(to_json(NEW.is_featured)::text, 'null'),
    ',"authors":', coalesce(NEW.author_summaries::text, 'null'),
    ',"tags":', coalesce(NEW.tag_summaries::text, 'null'));
  NEW.json_dates_seo := concat(
    ',"published_at":', coalesce(to_json(to_char(NEW.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text, 'null'),
    ',"updated_at":', coalesce(to_json(to_char(NEW.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text, 'null'),
    ',"seo":{"meta_title":', coalesce(to_json(coalesce(NEW.meta_title, NEW.title))::text, 'null'),
    ',"meta_description":', coalesce(to_json(coalesce(NEW.meta_description, NEW.excerpt, NEW.subtitle, NEW.title))::text, 'null'));
  NEW.json_seo_rest := concat(
    ',"og_title":', coalesce(to_json(coalesce(NEW.og_title, NEW.meta_title, NEW.title))::text, 'null'),
    ',"og_description":', coalesce(to_json(coalesce(NEW.og_description, NEW.meta_description, NEW.excerpt, NEW.subtitle, NEW.title))::text, 'null'),
    ',"og_image":', coalesce(to_json(coalesce(NEW.og_image_url, NEW.lead_image_url))::text, 'null'),
    ',"twitter_title":', coalesce(to_json(coalesce(NEW.twitter_title, NEW.og_title, NEW.meta_title, NEW.title))::text, 'null'),
    ',"twitter_description":', coalesce(to_json(coalesce(NEW.twitter_description, NEW.og_description, NEW.meta_description, NEW.excerpt, NEW.subtitle, NEW.title))::text, 'null'),
    ',"twitter_image":', coalesce(to_json(coalesce(NEW.twitter_image_url, NEW.og_image_url, NEW.lead_image_url))::text, 'null'),
    ',"robots":', CASE WHEN NEW.noindex THEN '"noindex, follow"' ELSE '"index, follow"' END, '}');
  RETURN NEW;
END
$$`.execute(db)
  await sql`CREATE TRIGGER posts_json_runs BEFORE INSERT OR UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION posts_json_runs()`.execute(db)
  // Setting a run to null is enough: the trigger writes all three. No other trigger fires.
  await sql`UPDATE posts SET json_summary = NULL
    WHERE id IN (SELECT id FROM posts WHERE published_at <= now() ORDER BY published_at DESC, id DESC LIMIT ${sql.lit(REWRITE_NEWEST)}) OR published_at > now()`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER posts_json_runs ON posts`.execute(db)
  await sql`DROP FUNCTION posts_json_runs()`.execute(db)
  await sql`ALTER TABLE posts DROP COLUMN json_summary, DROP COLUMN json_dates_seo, DROP COLUMN json_seo_rest`.execute(db)
}
