-- A publication's title and abstract start as matching counts them (search::matching::
-- AnalysedPublication, encoded): derived from the row, written with it, so that a match
-- reads its candidates' word counts instead of analysing their texts again. NULL (rows
-- written before this column) or made by another analyser: matching analyses the text.
ALTER TABLE publications ADD COLUMN analysed BLOB;

-- The rows still to analyse (service::faculty::analysed::fill): empty once they are done, since
-- every publication written since carries its form.
CREATE INDEX publications_unanalysed ON publications (faculty_id, position) WHERE analysed IS NULL;
