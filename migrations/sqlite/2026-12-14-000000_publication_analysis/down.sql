DROP INDEX publications_unanalysed;
ALTER TABLE publications DROP COLUMN analysed;
