"""Building what an administrator uploads: the Teams app package (manifest and icons)."""
