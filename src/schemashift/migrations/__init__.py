"""The versioned side: a folder of numbered migration files, its integrity sum, a history table in
the database, a session lock, and a runner that applies or reverts files one transaction each."""
