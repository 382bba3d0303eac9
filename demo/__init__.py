# The demo organisation and the scale data set: the one app that may import every app.
