/** Text of `resilient-syslog --help`. Keep it in step with OPTIONS in options.ts and with docs/cli.md. */
export const HELP_TEXT = `Usage: resilient-syslog [options] URL [URL...]

Forwards lines from standard input, or from followed files, to syslog collectors
with failover and no loss while a collector is down. Each line is one event;
empty lines are skipped.

Collectors:
  URL, -u, --upstream URL   collector as udp://, tcp://, tls:// or relp://host:port;
                            repeatable. The first is the primary for failover
      --failover            one collector at a time, in the order given (default)
      --round-robin         spread events over every collector that is up
      --buffer-dir DIR      keep undelivered events in DIR (a DiskBuffer), so a
                            later run delivers them; default: memory only

Message:
      --format NAME         rfc5424 (default) or rfc3164
  -p, --priority PRI        facility.severity as in logger(1), such as local0.warning,
                            or a PRI number from 0 to 191; default user.notice
  -t, --tag TAG             APP-NAME (the RFC 3164 TAG); default resilient-syslog
      --hostname NAME       HOSTNAME; default the host name of this machine
      --msgid ID            RFC 5424 MSGID; default none

Input:
  -f, --follow FILE         follow FILE instead of reading standard input, across
                            rotation (rename or delete and a new file) and
                            truncation; repeatable. A missing FILE is waited for
      --from-start          read followed files from the beginning; default: only
                            lines written after the start
      --poll-interval TIME  check followed files this often; default 1s
      --poll-only           do not use fs.watch to notice changes sooner
      --rotate-wait TIME    keep reading a rotated file this long; default 5s

Other:
  -c, --config FILE         JSON file with the same settings (see docs/cli.md);
                            options on the command line take precedence
      --close-timeout TIME  on end of input, SIGTERM or SIGINT, wait this long for
                            delivery before exiting; default 10s
  -h, --help                show this help
      --version             show the version

TIME is a number with a unit: 500ms, 5s or 2m; a bare number is seconds.

Signals:
  SIGTERM, SIGINT           stop reading, deliver within --close-timeout, exit;
                            a second signal exits at once
  SIGUSR2, SIGUSR1          write a statistics line to standard error; SIGUSR1
                            only under node --disable-sigusr1, because without
                            that flag (Node 20 has none) it starts the inspector

Exit status:
  0  every event was delivered
  1  delivery incomplete: events were dropped or left undelivered at exit
     (kept in --buffer-dir when one is set, lost otherwise)
  2  usage error: invalid option, value or configuration file
  3  input error: reading standard input or a followed file failed
  70 internal error: a bug, with its stack trace on standard error
`;
