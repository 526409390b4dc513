-- Pseudonyms become random surrogates (meterrisk/privacy.py); the store keeps no key.
-- The old pseudonyms were HMACs keyed by settings.pseudonym_key, and every analyst snapshot
-- (then a byte copy of the store) carried that key: anyone holding an old snapshot could
-- recompute them from registry ids. So the key goes and every household gets a new one.
DELETE FROM settings WHERE key = 'pseudonym_key';
UPDATE households SET pseudonym = 'P' || upper(substr(md5(gen_random_uuid()::VARCHAR), 1, 15));
