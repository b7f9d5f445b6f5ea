/**
 * Imported first by the speed section: LanceDB's native logger (env_logger, read once when the
 * module loads) would otherwise print k-means "empty cluster" / "empty partition" warnings for
 * every index built on these synthetic tables. Child processes inherit the setting.
 */
process.env.LANCEDB_LOG ??= "error";
