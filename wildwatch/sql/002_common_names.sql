-- Keyword kinds grow: common names imported from the CITES index.
ALTER TABLE keywords DROP CONSTRAINT keywords_kind_check;
ALTER TABLE keywords ADD CONSTRAINT keywords_kind_check
    CHECK (kind IN ('product', 'species', 'common_name', 'code_word', 'disguise', 'innocent'));
