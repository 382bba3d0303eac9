# CSV import and export: upload, dry run, confirm, report; export with the formula guard.
