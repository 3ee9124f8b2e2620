-- Hallmark store, migration 0003: LZ4 instead of pglz for the large columns.
-- Profiled under publishing load, pglz_compress took about a quarter of PostgreSQL's CPU
-- (BENCHMARKS.md, "Publish"): every version stores the passport and six signed forms. LZ4
-- compresses these JSON and base64 values several times faster. Only values written from
-- now on are affected; stored ones stay readable either way. A server built without LZ4
-- keeps pglz: the migration says so and succeeds.
DO $$
BEGIN
    ALTER TABLE passport_drafts ALTER COLUMN content SET COMPRESSION lz4;
    ALTER TABLE passport_versions
        ALTER COLUMN content SET COMPRESSION lz4,
        ALTER COLUMN public_di SET COMPRESSION lz4,
        ALTER COLUMN public_jwt SET COMPRESSION lz4,
        ALTER COLUMN legitimate_interest_di SET COMPRESSION lz4,
        ALTER COLUMN legitimate_interest_jwt SET COMPRESSION lz4,
        ALTER COLUMN authority_di SET COMPRESSION lz4,
        ALTER COLUMN authority_jwt SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no LZ4 support; large columns keep pglz compression';
END
$$;
