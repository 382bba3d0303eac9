# Simplified Chinese formats.
