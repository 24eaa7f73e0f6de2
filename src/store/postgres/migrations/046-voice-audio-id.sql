-- Voice messages are kept by audio id; their URL is signed when it is used
-- (a stored signed URL expires). Rows written before that may carry only the
-- URL (/audio/<id>/<expires>/<hmac>.<ext>): take the id from it.
UPDATE messages
SET audio_id = split_part(substr(audio_url, strpos(audio_url, '/audio/') + 7), '/', 1)
WHERE audio_id IS NULL AND kind = 'voice' AND strpos(audio_url, '/audio/') > 0
  AND strpos(substr(audio_url, strpos(audio_url, '/audio/') + 7), '/') > 1;

UPDATE notify_alert_messages
SET audio_id = split_part(substr(audio_url, strpos(audio_url, '/audio/') + 7), '/', 1)
WHERE audio_id IS NULL AND strpos(audio_url, '/audio/') > 0
  AND strpos(substr(audio_url, strpos(audio_url, '/audio/') + 7), '/') > 1;
