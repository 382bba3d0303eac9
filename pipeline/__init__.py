# The pipeline app: stages, deals, the coach gate and its consequences, the dashboard and the work list.
