# Management commands of demo.
