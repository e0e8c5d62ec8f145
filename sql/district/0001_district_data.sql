-- District data: one set of shared tables per data store. Every row carries district_id, which
-- leads every primary and foreign key (the layout Citus row-based sharding needs), and
-- row-level security is enabled AND forced on every table, so that even the owner sees only
-- the district its transaction names (the owner role has BYPASSRLS for bulk loading only).
--
-- A transaction names its district with set_config('app.district_id', id, true). The policies
-- read NULLIF(current_setting('app.district_id', true), ''): a forgotten setting reads as NULL
-- and matches no row, rather than every row.

CREATE FUNCTION gateway_current_district() RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT NULLIF(current_setting('app.district_id', true), '')::integer
$$;

CREATE TABLE schools (
    district_id     integer NOT NULL,
    school_id       integer NOT NULL,
    -- 'high': a high school of the district; 'external': a school elsewhere that a transfer
    -- student attended, kept so that transfer credit shows where it was earned.
    kind            text    NOT NULL DEFAULT 'high' CHECK (kind IN ('high', 'external')),
    name            text    NOT NULL,
    nces_id         text    CHECK (nces_id ~ '^[0-9]{12}$'),
    ceeb_code       text    CHECK (ceeb_code ~ '^[0-9]{6}$'),
    state_school_id text,
    address_line    text    NOT NULL,
    city            text    NOT NULL,
    state_code      text    NOT NULL CHECK (state_code ~ '^[A-Z]{2}$'),
    postal_code     text    NOT NULL CHECK (postal_code ~ '^[0-9]{5}(-[0-9]{4})?$'),
    phone           text,
    PRIMARY KEY (district_id, school_id)
);

CREATE TABLE students (
    district_id      integer NOT NULL,
    -- The state's student identifier (NC: the 10-digit UID). The same person may have a
    -- record in two districts after a transfer, so it is unique per district, not statewide.
    student_id       text     NOT NULL CHECK (student_id ~ '^[0-9A-Za-z-]{1,30}$'),
    local_id         text     NOT NULL,
    school_id        integer  NOT NULL,
    first_name       text     NOT NULL,
    middle_name      text,
    last_name        text     NOT NULL,
    name_suffix      text,
    birth_date       date     NOT NULL,
    gender           text     NOT NULL CHECK (gender IN ('Male', 'Female', 'Unreported')),
    grade_level      smallint NOT NULL CHECK (grade_level BETWEEN 6 AND 13),
    cohort_year      smallint NOT NULL,
    entry_date       date     NOT NULL,
    graduation_date  date,
    diploma_type     text,
    PRIMARY KEY (district_id, student_id),
    UNIQUE (district_id, local_id),
    FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, school_id)
);
CREATE INDEX students_cohort ON students (district_id, cohort_year);
-- TranscriptRequests without a state id are matched by birth date, then name.
CREATE INDEX students_birth_date ON students (district_id, birth_date);

CREATE TABLE academic_sessions (
    district_id  integer  NOT NULL,
    session_id   integer  NOT NULL,
    school_id    integer  NOT NULL,
    -- The calendar year in which the school year ends: 2024 is 2023-2024.
    school_year  smallint NOT NULL,
    term         text     NOT NULL CHECK (term IN ('FullYear', 'Semester1', 'Semester2', 'Summer')),
    name         text     NOT NULL,
    begin_date   date     NOT NULL,
    end_date     date     NOT NULL CHECK (end_date >= begin_date),
    PRIMARY KEY (district_id, session_id),
    UNIQUE (district_id, school_id, school_year, term),
    FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, school_id)
);

CREATE TABLE course_records (
    district_id        integer      NOT NULL,
    student_id         text         NOT NULL,
    record_id          integer      NOT NULL,
    session_id         integer      NOT NULL,
    grade_level        smallint     NOT NULL,
    course_code        text         NOT NULL,
    title              text         NOT NULL,
    level              text         NOT NULL CHECK (level IN
                           ('Standard', 'Honors', 'AP', 'IB', 'CollegeCredit', 'Remedial')),
    -- Letter grade, or P (pass), W (withdrawn), IP (in progress).
    grade              text         NOT NULL CHECK (grade ~ '^([A-DF][+-]?|P|W|IP)$'),
    credits_attempted  numeric(4,2) NOT NULL CHECK (credits_attempted >= 0),
    credits_earned     numeric(4,2) NOT NULL CHECK (credits_earned >= 0),
    quality_points     numeric(5,3) NOT NULL CHECK (quality_points >= 0),
    PRIMARY KEY (district_id, student_id, record_id),
    FOREIGN KEY (district_id, student_id) REFERENCES students (district_id, student_id),
    FOREIGN KEY (district_id, session_id) REFERENCES academic_sessions (district_id, session_id)
);

CREATE TABLE gpa_summaries (
    district_id        integer      NOT NULL,
    student_id         text         NOT NULL,
    as_of              date         NOT NULL,
    gpa_weighted       numeric(5,3) NOT NULL,
    gpa_unweighted     numeric(5,3) NOT NULL,
    credits_attempted  numeric(6,2) NOT NULL,
    credits_earned     numeric(6,2) NOT NULL,
    class_rank         integer      CHECK (class_rank >= 1),
    class_size         integer      CHECK (class_size >= 1),
    PRIMARY KEY (district_id, student_id),
    FOREIGN KEY (district_id, student_id) REFERENCES students (district_id, student_id),
    CHECK (class_rank IS NULL OR class_rank <= class_size)
);

CREATE TABLE test_scores (
    district_id  integer  NOT NULL,
    student_id   text     NOT NULL,
    score_id     integer  NOT NULL,
    test_code    text     NOT NULL CHECK (test_code IN ('SAT', 'ACT', 'PSAT')),
    subtest      text     NOT NULL,
    score        smallint NOT NULL CHECK (score >= 0),
    test_date    date     NOT NULL,
    PRIMARY KEY (district_id, student_id, score_id),
    FOREIGN KEY (district_id, student_id) REFERENCES students (district_id, student_id)
);

CREATE TABLE transcript_holds (
    district_id  integer     NOT NULL,
    student_id   text        NOT NULL,
    hold_id      integer     NOT NULL,
    hold_type    text        NOT NULL CHECK (hold_type IN
                     ('Financial', 'Disciplinary', 'Administrative', 'RecordsIncomplete')),
    reason       text        NOT NULL,
    placed_at    timestamptz NOT NULL,
    released_at  timestamptz,
    PRIMARY KEY (district_id, student_id, hold_id),
    FOREIGN KEY (district_id, student_id) REFERENCES students (district_id, student_id)
);
CREATE INDEX transcript_holds_active ON transcript_holds (district_id, student_id)
    WHERE released_at IS NULL;

-- The record of disclosures and requests that 34 CFR 99.32 requires, kept with the student's
-- record in the district's own store. Written in the same transaction as the read it records.
CREATE TABLE disclosures (
    district_id          integer     NOT NULL,
    disclosure_id        uuid        NOT NULL DEFAULT gen_random_uuid(),
    occurred_at          timestamptz NOT NULL DEFAULT now(),
    student_id           text        NOT NULL,
    -- disclosed: a transcript left the gateway. refused_*: a request that was recorded but
    -- answered without a transcript (FERPA records requests as well as disclosures).
    event                text        NOT NULL CHECK (event IN
                             ('disclosed', 'refused_hold', 'refused_not_authorized')),
    channel              text        NOT NULL CHECK (channel IN ('api', 'batch')),
    consumer_id          uuid,
    consumer_name        text        NOT NULL,
    client_id            text,
    recipient            text        NOT NULL,
    purpose              text        NOT NULL,
    legal_basis          text        NOT NULL,
    request_tracking_id  text,
    document_id          text,
    document_sha256      text        CHECK (document_sha256 ~ '^[0-9a-f]{64}$'),
    pesc_version         text,
    detail               text,
    PRIMARY KEY (district_id, disclosure_id),
    FOREIGN KEY (district_id, student_id) REFERENCES students (district_id, student_id),
    CHECK ((event = 'disclosed') = (document_sha256 IS NOT NULL))
);
CREATE INDEX disclosures_time ON disclosures (district_id, occurred_at DESC);
CREATE INDEX disclosures_student ON disclosures (district_id, student_id, occurred_at DESC);

CREATE FUNCTION gateway_district_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER disclosures_append_only BEFORE UPDATE OR DELETE ON disclosures
    FOR EACH ROW EXECUTE FUNCTION gateway_district_append_only();

-- Isolation: the same policy on every district table, enabled and forced.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['schools', 'students', 'academic_sessions', 'course_records',
                             'gpa_summaries', 'test_scores', 'transcript_holds', 'disclosures']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY district_isolation ON %I USING (district_id = gateway_current_district())'
            ' WITH CHECK (district_id = gateway_current_district())', t);
    END LOOP;
END
$$;

GRANT USAGE ON SCHEMA public TO gateway_app;
GRANT EXECUTE ON FUNCTION gateway_current_district() TO gateway_app;
GRANT SELECT ON schools, students, academic_sessions, course_records, gpa_summaries,
    test_scores, transcript_holds TO gateway_app;
-- Append-only for the application role: no UPDATE, no DELETE, no TRUNCATE.
GRANT SELECT, INSERT ON disclosures TO gateway_app;
