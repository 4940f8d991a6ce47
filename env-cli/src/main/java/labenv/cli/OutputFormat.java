package labenv.cli;

/** {@code --format}: a table for people, JSON for scripts. */
enum OutputFormat {
  table, json
}
