-- Up Migration
-- acquire() reports the limits a request created from templates (created, with the template
-- of each in created_from, in the same order): a misspelt name that a template covers
-- (gpu:nope under gpu:*) becomes a permanent limit, and the caller should hear of it.
ALTER TYPE acquire_result ADD ATTRIBUTE created text[];
ALTER TYPE acquire_result ADD ATTRIBUTE created_from text[];

-- Down Migration
ALTER TYPE acquire_result DROP ATTRIBUTE created_from;
ALTER TYPE acquire_result DROP ATTRIBUTE created;
