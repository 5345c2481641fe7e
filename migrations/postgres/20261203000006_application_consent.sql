-- Applications become the holder's act (用证授权): an agency's application waits, pending, until
-- the holder approves or declines it; a holder's own application is approved when filed. The
-- agency reads the fulfilling licences only while the application is approved and open.
ALTER TABLE applications ADD COLUMN state TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE applications ADD COLUMN origin TEXT NOT NULL DEFAULT 'agency';
-- The licence references the agency named for the holder to consider (JSON array of URNs).
ALTER TABLE applications ADD COLUMN requested TEXT NOT NULL DEFAULT '[]';
ALTER TABLE applications ADD COLUMN decided_at TIMESTAMPTZ;
CREATE INDEX applications_applicant ON applications (applicant, created_at);

-- Applications filed before this change were checked without the holder: they wait for the
-- holder like any agency application, and what was checked without consent is forgotten.
UPDATE applications SET result = 'null', fully_satisfied = FALSE;
DELETE FROM application_licences;
