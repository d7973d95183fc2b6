"""Data acquisition, the same for every branch: download (resume, retries, checksums), archives,
local files, and the provenance sidecar that says where each file came from."""
