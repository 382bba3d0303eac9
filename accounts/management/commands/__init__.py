# Management commands of accounts.
