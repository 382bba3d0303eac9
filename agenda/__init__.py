# The rep's day: tasks, the Today page, logging a touch with its next step, the daily digest.
