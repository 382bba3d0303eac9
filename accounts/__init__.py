# The accounts app: companies, the people who work there, their careers, and the territories that route them.
