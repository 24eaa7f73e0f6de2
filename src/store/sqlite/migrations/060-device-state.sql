-- Presence from the desk phone: a phone of the device registry may name the
-- Asterisk device ('PJSIP/bob-desk') or hint ('201@phoneim-hints') whose
-- state AMI reports; while that device is in a call its user is "on the phone".
ALTER TABLE devices ADD COLUMN asterisk_device TEXT;
CREATE INDEX devices_asterisk ON devices(asterisk_device) WHERE asterisk_device IS NOT NULL;

-- A presence input beside the links: an Asterisk device in a call, per user
-- tied to it and per node that heard it (a node's rows go with the node, as
-- its links do).
CREATE TABLE device_calls (
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  device TEXT NOT NULL,
  node_id TEXT NOT NULL,
  since INTEGER NOT NULL,
  PRIMARY KEY (user_id, device, node_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX device_calls_node ON device_calls(node_id, device);
