# The coaches app: coaches, holders, interactions, style reports, playbook cards, moves and handovers.
