-- A report's CSV is downloaded in pieces (substr): stored uncompressed out of line, each
-- piece reads only its own TOAST chunks instead of decompressing the whole value again.
-- Applies to CSVs written from now on; older ones still download, only slower.
ALTER TABLE reports ALTER COLUMN csv SET STORAGE EXTERNAL;
