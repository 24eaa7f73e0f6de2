-- Voice messages are kept by audio id; their URL is signed when it is used
-- (a stored signed URL expires). Rows written before that may carry only the
-- URL (/audio/<id>/<expires>/<hmac>.<ext>): take the id from it.
UPDATE messages
SET audio_id = substr(substr(audio_url, instr(audio_url, '/audio/') + 7), 1,
                      instr(substr(audio_url, instr(audio_url, '/audio/') + 7), '/') - 1)
WHERE audio_id IS NULL AND kind = 'voice' AND instr(audio_url, '/audio/') > 0
  AND instr(substr(audio_url, instr(audio_url, '/audio/') + 7), '/') > 1;

UPDATE notify_alert_messages
SET audio_id = substr(substr(audio_url, instr(audio_url, '/audio/') + 7), 1,
                      instr(substr(audio_url, instr(audio_url, '/audio/') + 7), '/') - 1)
WHERE audio_id IS NULL AND instr(audio_url, '/audio/') > 0
  AND instr(substr(audio_url, instr(audio_url, '/audio/') + 7), '/') > 1;
