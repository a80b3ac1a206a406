"""Protocol v2 settlement contracts."""
