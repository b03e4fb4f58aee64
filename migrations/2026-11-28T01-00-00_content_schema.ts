import { sql, type Kysely } from 'kysely'

// Frozen in time: this file must never import from src/. It describes the schema as it was
// on the day it was written; later changes get their own migration.
//
// One statement per `sql` call: the embedded driver (PGlite) runs each query as a single
// prepared statement. Everything here runs on PostgreSQL 15 and on PGlite (PostgreSQL 17).

const SLUG_CHECK = "~ '^[a-z0-9]+(-[a-z0-9]+)*$'"

export async function up (db: Kysely<any>): Promise<void> {
  const statements = [
    // Blogs: one publication of the network ("Under The Black Flag").
    `CREATE TABLE blogs (
      id uuid PRIMARY KEY,
      slug text NOT NULL UNIQUE CHECK (slug ${SLUG_CHECK} AND length(slug) <= 100),
      title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
      description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
      language text NOT NULL DEFAULT 'en' CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
      version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,

    `CREATE TABLE authors (
      id uuid PRIMARY KEY,
      slug text NOT NULL UNIQUE CHECK (slug ${SLUG_CHECK} AND length(slug) <= 100),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      bio text NOT NULL DEFAULT '' CHECK (length(bio) <= 5000),
      avatar_url text CHECK (avatar_url ~ '^https?://'),
      links jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(links) = 'array'),
      version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,

    `CREATE TABLE tags (
      id uuid PRIMARY KEY,
      slug text NOT NULL UNIQUE CHECK (slug ${SLUG_CHECK} AND length(slug) <= 100),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
      description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
      version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,

    // Posts. A post is visible to the public when status is published or scheduled, its
    // published_at has passed and it is not deleted: a scheduled post appears on time by itself.
    `CREATE TABLE posts (
      id uuid PRIMARY KEY,
      blog_id uuid NOT NULL REFERENCES blogs (id) ON DELETE RESTRICT,
      slug text NOT NULL CHECK (slug ${SLUG_CHECK} AND length(slug) <= 200),
      title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
      subtitle text CHECK (length(subtitle) <= 500),
      excerpt text CHECK (length(excerpt) <= 2000),
      body_html text NOT NULL DEFAULT '',
      body_text text NOT NULL DEFAULT '',
      word_count integer NOT NULL DEFAULT 0 CHECK (word_count >= 0),
      lead_image_url text CHECK (lead_image_url ~ '^https?://'),
      lead_image_alt text CHECK (length(lead_image_alt) <= 1000),
      lead_image_caption text CHECK (length(lead_image_caption) <= 2000),
      lead_image_credit text CHECK (length(lead_image_credit) <= 300),
      lead_image_width integer CHECK (lead_image_width BETWEEN 1 AND 100000),
      lead_image_height integer CHECK (lead_image_height BETWEEN 1 AND 100000),
      language text NOT NULL DEFAULT 'en' CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
      status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'published', 'archived')),
      is_breaking boolean NOT NULL DEFAULT false,
      is_featured boolean NOT NULL DEFAULT false,
      published_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
      deleted_at timestamptz,
      search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
        setweight(to_tsvector('english'::regconfig, coalesce(subtitle, '') || ' ' || coalesce(excerpt, '')), 'B') ||
        setweight(to_tsvector('english'::regconfig, body_text), 'C')
      ) STORED,
      CONSTRAINT posts_blog_slug_unique UNIQUE (blog_id, slug),
      CONSTRAINT posts_published_needs_time CHECK (status NOT IN ('scheduled', 'published') OR published_at IS NOT NULL),
      CONSTRAINT posts_lead_image_needs_url CHECK (
        lead_image_url IS NOT NULL OR (lead_image_alt IS NULL AND lead_image_caption IS NULL AND
          lead_image_credit IS NULL AND lead_image_width IS NULL AND lead_image_height IS NULL))
    )`,
    // "Published, newest first", overall and per blog: partial indexes hold only what the
    // public can ever see, in exactly the order the lists walk.
    `CREATE INDEX posts_public_latest_idx ON posts (published_at DESC, id DESC)
      WHERE status IN ('published', 'scheduled') AND deleted_at IS NULL`,
    `CREATE INDEX posts_public_blog_latest_idx ON posts (blog_id, published_at DESC, id DESC)
      WHERE status IN ('published', 'scheduled') AND deleted_at IS NULL`,
    `CREATE INDEX posts_public_breaking_idx ON posts (published_at DESC, id DESC)
      WHERE status IN ('published', 'scheduled') AND deleted_at IS NULL AND is_breaking`,
    `CREATE INDEX posts_search_idx ON posts USING gin (search)`,
    // Editors' tools list everything, drafts included, by last change.
    `CREATE INDEX posts_updated_idx ON posts (updated_at DESC, id DESC)`,

    // Many authors per post, ordered. published_at is copied here (kept in step by the
    // triggers below) so "latest posts by this author" walks one index instead of sorting.
    `CREATE TABLE post_authors (
      post_id uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
      author_id uuid NOT NULL REFERENCES authors (id) ON DELETE RESTRICT,
      position smallint NOT NULL CHECK (position >= 0),
      published_at timestamptz,
      PRIMARY KEY (post_id, author_id),
      CONSTRAINT post_authors_position_unique UNIQUE (post_id, position)
    )`,
    `CREATE INDEX post_authors_author_latest_idx ON post_authors (author_id, published_at DESC, post_id DESC)`,

    `CREATE TABLE post_tags (
      post_id uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
      tag_id uuid NOT NULL REFERENCES tags (id) ON DELETE RESTRICT,
      position smallint NOT NULL CHECK (position >= 0),
      published_at timestamptz,
      PRIMARY KEY (post_id, tag_id),
      CONSTRAINT post_tags_position_unique UNIQUE (post_id, position)
    )`,
    `CREATE INDEX post_tags_tag_latest_idx ON post_tags (tag_id, published_at DESC, post_id DESC)`,

    `CREATE FUNCTION copy_post_published_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      SELECT published_at INTO NEW.published_at FROM posts WHERE id = NEW.post_id;
      RETURN NEW;
    END $$`,
    `CREATE TRIGGER post_authors_published_at BEFORE INSERT ON post_authors
      FOR EACH ROW EXECUTE FUNCTION copy_post_published_at()`,
    `CREATE TRIGGER post_tags_published_at BEFORE INSERT ON post_tags
      FOR EACH ROW EXECUTE FUNCTION copy_post_published_at()`,
    `CREATE FUNCTION propagate_post_published_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE post_authors SET published_at = NEW.published_at WHERE post_id = NEW.id;
      UPDATE post_tags SET published_at = NEW.published_at WHERE post_id = NEW.id;
      RETURN NULL;
    END $$`,
    `CREATE TRIGGER posts_published_at_propagates AFTER UPDATE OF published_at ON posts
      FOR EACH ROW WHEN (OLD.published_at IS DISTINCT FROM NEW.published_at)
      EXECUTE FUNCTION propagate_post_published_at()`,

    // An old slug keeps resolving after a rename. scope_id is the blog for posts, NULL for
    // resources whose slugs are global.
    `CREATE TABLE slug_redirects (
      entity_type text NOT NULL CHECK (entity_type IN ('blog', 'author', 'tag', 'post')),
      scope_id uuid,
      old_slug text NOT NULL CHECK (old_slug ${SLUG_CHECK}),
      target_id uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT slug_redirects_unique UNIQUE NULLS NOT DISTINCT (entity_type, scope_id, old_slug)
    )`,
    `CREATE INDEX slug_redirects_target_idx ON slug_redirects (target_id)`,

    `CREATE TABLE api_keys (
      id uuid PRIMARY KEY,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      prefix text NOT NULL UNIQUE CHECK (prefix ~ '^[a-z0-9]{6,32}$'),
      secret_hash text NOT NULL,
      scopes text[] NOT NULL CHECK (scopes <@ ARRAY['content:read', 'content:preview', 'content:write', 'admin']::text[]
        AND cardinality(scopes) >= 1),
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    )`,

    // The change log: one row per content change, written in the transaction of the change.
    // seq orders it; tx_id lets readers skip rows of transactions that may still commit
    // behind them (a sequence value is taken before commit, so seq alone can have holes
    // that fill in later).
    `CREATE TABLE changes (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      entity_type text NOT NULL CHECK (entity_type IN ('blog', 'author', 'tag', 'post')),
      entity_id uuid NOT NULL,
      blog_id uuid,
      op text NOT NULL CHECK (op IN ('upsert', 'delete')),
      public_op text CHECK (public_op IN ('upsert', 'delete')),
      occurred_at timestamptz NOT NULL DEFAULT now(),
      tx_id xid8 NOT NULL DEFAULT pg_current_xact_id()
    )`,
    `CREATE INDEX changes_entity_idx ON changes (entity_type, entity_id, seq DESC)`,

    `CREATE TABLE webhooks (
      id uuid PRIMARY KEY,
      url text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
      description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
      event_types text[] NOT NULL CHECK (cardinality(event_types) >= 1),
      secret text NOT NULL,
      is_active boolean NOT NULL DEFAULT true,
      version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,

    `CREATE TABLE webhook_deliveries (
      id uuid PRIMARY KEY,
      webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
      change_seq bigint NOT NULL REFERENCES changes (seq) ON DELETE CASCADE,
      event_type text NOT NULL,
      payload jsonb NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
      attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      last_status_code integer,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      delivered_at timestamptz,
      CONSTRAINT webhook_deliveries_once UNIQUE (webhook_id, change_seq)
    )`,
    `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`,
    `CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC)`,

    // Replays of a POST with the same Idempotency-Key get the first response back.
    `CREATE TABLE idempotency_keys (
      api_key_id uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
      key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
      method text NOT NULL,
      path text NOT NULL,
      request_hash text NOT NULL,
      response_status integer,
      response_headers jsonb,
      response_body text,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (api_key_id, key)
    )`,
    `CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at)`
  ]
  for (const statement of statements) {
    await sql.raw(statement).execute(db)
  }
}

export async function down (db: Kysely<any>): Promise<void> {
  const tables = [
    'idempotency_keys', 'webhook_deliveries', 'webhooks', 'changes', 'api_keys', 'slug_redirects',
    'post_tags', 'post_authors', 'posts', 'tags', 'authors', 'blogs'
  ]
  for (const table of tables) {
    await db.schema.dropTable(table).execute()
  }
  await sql`DROP FUNCTION copy_post_published_at()`.execute(db)
  await sql`DROP FUNCTION propagate_post_published_at()`.execute(db)
}
