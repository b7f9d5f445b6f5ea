/** A mistake in how the command was called: exit code 2 and the usage text. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const USAGE = `Usage: lookalike <command> [options]

Commands:
  index  --db DB [--collection NAME] [--force] PATH...   index every image under the files/folders
  search --db DB [--collection NAME] [--k N] [--json] IMAGE...   top-k look-alikes per query
  check  --db DB [--collection NAME] [--json] IMAGE...   repost verdict per query
  info   --db DB                                          collections and their sizes
  drop   --db DB --collection NAME                        delete a collection

DB is a folder, or an object-store URI: s3://bucket/prefix (also gs://, az://), with credentials and
endpoint from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT,
AWS_ALLOW_HTTP=true for a plain-http endpoint).

Options for every command:
  --from FILE          read more paths from FILE, one per line ("-" reads stdin)
  --models-dir DIR     model cache (default $LOOKALIKE_MODELS_DIR or data/models)
  --model ID           model (default mobilenetv2-int8)
  --pooling NAME       spoc | mac | gem | rmac | crow (must match the collection's)
  --threads N          inference threads (default: all cores)
  --no-download        fail instead of downloading a missing model
  -h, --help           this text

Output: results go to stdout (one JSON line per query with --json); progress and warnings to stderr.
Exit status: 0 when the run completed (unreadable queries are reported per line), 2 on usage errors, 1 on fatal errors.`;
