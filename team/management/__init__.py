# Management commands of team.
