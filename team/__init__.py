# The team app: the people who use CoachCRM (User), their notices, sign-in and API tokens.
