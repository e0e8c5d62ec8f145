-- Loading district data from the districts' SIS exports (`gateway data load`, issue 10).
--
-- Loads write through row-level security as gateway_ingest: a NOLOGIN role without BYPASSRLS
-- that the application role may SET ROLE to inside one tenant transaction. So a load for
-- district A is refused by the policies below if any row names district B, whatever the
-- loader's code does; the owner role (BYPASSRLS) is never used for real records.
-- The role is created by sql/bootstrap.sql (or gateway.database.bootstrap): the owner
-- running migrations cannot create roles.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gateway_ingest') THEN
        RAISE EXCEPTION 'role gateway_ingest is missing: a DBA creates it (see sql/bootstrap.sql)';
    END IF;
END
$$;

-- Real exports grade on a numeric scale too (Texas: 0-100) and give GPAs to four places
-- (4.0583): both are kept as the district sent them. The GPA columns lose their typmod but
-- keep the scale of each stored value, so existing values render exactly as before.
ALTER TABLE course_records DROP CONSTRAINT course_records_grade_check;
ALTER TABLE course_records ADD CONSTRAINT course_records_grade_check
    CHECK (grade ~ '^([A-DF][+-]?|P|W|IP|[0-9]{1,3}(\.[0-9]{1,2})?)$');
ALTER TABLE course_records ALTER COLUMN quality_points TYPE numeric(7,3);
ALTER TABLE gpa_summaries
    ALTER COLUMN gpa_weighted TYPE numeric,
    ALTER COLUMN gpa_unweighted TYPE numeric,
    ADD CONSTRAINT gpa_summaries_gpa_range CHECK (
        gpa_weighted >= 0 AND gpa_weighted < 1000 AND scale(gpa_weighted) <= 4
        AND gpa_unweighted >= 0 AND gpa_unweighted < 1000 AND scale(gpa_unweighted) <= 4);

-- What each district's data is now: the last load applied, in the same transaction as its rows
-- (so the refresh time a district sees is the time of the data it reads).
CREATE TABLE district_refreshes (
    district_id    integer     NOT NULL PRIMARY KEY,
    load_id        uuid        NOT NULL,
    source_sha256  text        NOT NULL CHECK (source_sha256 ~ '^[0-9a-f]{64}$'),
    mode           text        NOT NULL CHECK (mode IN ('snapshot', 'merge')),
    refreshed_at   timestamptz NOT NULL,
    students       integer     NOT NULL CHECK (students >= 0)
);

-- Students the latest snapshot did not list. Their rows stay as they were (a disclosure
-- recorded under 34 CFR 99.32 must keep its student); this says they are no longer current.
CREATE TABLE unlisted_students (
    district_id  integer     NOT NULL,
    student_id   text        NOT NULL,
    since        timestamptz NOT NULL,
    load_id      uuid        NOT NULL,
    PRIMARY KEY (district_id, student_id),
    FOREIGN KEY (district_id, student_id) REFERENCES students (district_id, student_id)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['district_refreshes', 'unlisted_students']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY district_isolation ON %I USING (district_id = gateway_current_district())'
            ' WITH CHECK (district_id = gateway_current_district())', t);
    END LOOP;
END
$$;

GRANT SELECT ON district_refreshes, unlisted_students TO gateway_app;
GRANT USAGE ON SCHEMA public TO gateway_ingest;
GRANT EXECUTE ON FUNCTION gateway_current_district() TO gateway_ingest;
-- Never disclosures: a load cannot touch the record of disclosures.
GRANT SELECT, INSERT, UPDATE, DELETE ON schools, students, academic_sessions, course_records,
    gpa_summaries, test_scores, transcript_holds, district_refreshes, unlisted_students
    TO gateway_ingest;
