-- A campaign's audience may list 100,000 contact ids. TOAST compresses a large jsonb by
-- default, and on the embedded database that compression was most of the cost of
-- POST /api/campaigns (a 10,000-id audience: ~3× slower to insert). The audience is written
-- once and read back once, by the job that expands it: keep it out of line, uncompressed.
ALTER TABLE campaigns ALTER COLUMN audience SET STORAGE EXTERNAL;
