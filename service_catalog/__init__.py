# The service catalog: extra services and gifts, the authority matrix, grants and the ledger.
