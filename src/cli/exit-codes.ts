// The exit codes every command uses, as its --help prints them.
export const EXIT_CODES = `exit codes:
  0  done (run: stopped cleanly on SIGTERM/SIGINT)
  1  runtime failure: a broker, search engine, service or registry unreachable or failing, a timeout
  2  usage or configuration error: an unknown command or option, a missing or invalid setting or file`;
