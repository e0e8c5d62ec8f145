-- District tables, for the migration runner and for Citus (docs/scale-out.md).
--
-- 1. The registry: the runner registers every table a district migration creates, in that
--    migration's transaction, and on a Citus coordinator distributes it by district_id. This
--    backfills the tables of the files applied before the registry existed.
-- 2. The disclosure log's append-only guarantee, held by policies and privileges as well as by
--    the trigger: Citus refuses to distribute a table with triggers, so on Citus the runner
--    drops the trigger and these policies and grants are what remain. The application role
--    has SELECT and INSERT only (0001), and now the table has policies for SELECT and INSERT
--    only: a role subject to row-level security sees no row to UPDATE or DELETE, even if such
--    a privilege were ever granted by mistake. On plain PostgreSQL the trigger stays as well
--    and refuses UPDATE and DELETE even to the owner.

INSERT INTO gateway_district_tables (table_name, created_by)
SELECT t, 1
  FROM unnest(ARRAY['schools', 'students', 'academic_sessions', 'course_records',
                    'gpa_summaries', 'test_scores', 'transcript_holds', 'disclosures']) AS t
 WHERE to_regclass(t) IS NOT NULL
ON CONFLICT (table_name) DO NOTHING;

DROP POLICY district_isolation ON disclosures;
CREATE POLICY district_read ON disclosures FOR SELECT
    USING (district_id = gateway_current_district());
CREATE POLICY district_append ON disclosures FOR INSERT
    WITH CHECK (district_id = gateway_current_district());
