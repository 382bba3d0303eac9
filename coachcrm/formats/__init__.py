# Locale formats of CoachCRM's own (dates and numbers as its users write them).
