# The departures app: a rep who leaves, his at-risk coaches, handovers to successors, the team page.
