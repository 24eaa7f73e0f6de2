-- A user's language (BCP 47, e.g. 'es' or 'fr-CA'); NULL: the community's default (language.default).
ALTER TABLE users ADD COLUMN language TEXT;
