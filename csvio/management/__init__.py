# Management commands of csvio.
