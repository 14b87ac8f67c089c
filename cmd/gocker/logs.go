package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gocker/gocker/container"
	"github.com/urfave/cli/v2"
)

var logsCommand = &cli.Command{
	Name:      "logs",
	Usage:     "print a container's output",
	ArgsUsage: "CONTAINER",
	Description: `Prints what the container wrote, lines written to stderr on stderr and
the others on stdout. A container with a terminal (-t) has one stream,
printed on stdout. --since and --until take an RFC 3339 time
(2024-05-01T10:00:00Z), a date (2024-05-01), Unix seconds, or a duration
before now (10m, 1h30m).`,
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing new output until the container stops"},
		&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "number of lines to print from the end, or all"},
		&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "print the time of each line before it"},
		&cli.StringFlag{Name: "since", Usage: "print only lines written at or after this time"},
		&cli.StringFlag{Name: "until", Usage: "print only lines written before this time"},
	},
	UseShortOptionHandling: true,
	Action:                 logsAction,
}

func logsAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return &exitError{code: 125, err: errors.New("\"gocker logs\" requires exactly 1 argument: CONTAINER")}
	}
	opts, err := parseLogsOptions(c, time.Now())
	if err != nil {
		return &exitError{code: 125, err: err}
	}
	st, ctr, err := firstContainer(c)
	if err != nil {
		return err
	}
	return st.containers.Logs(c.Context, ctr, opts)
}

func parseLogsOptions(c *cli.Context, now time.Time) (container.LogsOptions, error) {
	opts := container.LogsOptions{
		Follow:     c.Bool("follow"),
		Timestamps: c.Bool("timestamps"),
		Tail:       -1,
		Stdout:     c.App.Writer,
		Stderr:     c.App.ErrWriter,
	}
	if tail := c.String("tail"); tail != "all" {
		n, err := strconv.Atoi(tail)
		if err != nil || n < 0 {
			return opts, fmt.Errorf("invalid --tail %q: use a number of lines or all", tail)
		}
		opts.Tail = n
	}
	var err error
	if opts.Since, err = parseLogTime("since", c.String("since"), now); err != nil {
		return opts, err
	}
	if opts.Until, err = parseLogTime("until", c.String("until"), now); err != nil {
		return opts, err
	}
	return opts, nil
}

// parseLogTime parses the value of --since or --until: an RFC 3339 time,
// a date, Unix seconds (with a fraction), or a duration before now. An
// empty value is the zero time, which does not filter.
func parseLogTime(flag, value string, now time.Time) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(value); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("invalid --%s %q: a duration is counted back from now, so it cannot be negative", flag, value)
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, value, time.Local); err == nil {
			return t, nil
		}
	}
	if t, ok := parseUnixTime(value); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("invalid --%s %q: use an RFC 3339 time (2024-05-01T10:00:00Z), a date, Unix seconds or a duration such as 10m", flag, value)
}

// parseUnixTime parses seconds since the epoch with an optional fraction
// of up to nine digits, as "1714557600.25".
func parseUnixTime(value string) (time.Time, bool) {
	sec, frac, hasFrac := strings.Cut(value, ".")
	s, err := strconv.ParseUint(sec, 10, 63)
	if err != nil {
		return time.Time{}, false
	}
	var ns uint64
	if hasFrac {
		if frac == "" || len(frac) > 9 {
			return time.Time{}, false
		}
		if ns, err = strconv.ParseUint((frac + "00000000")[:9], 10, 64); err != nil {
			return time.Time{}, false
		}
	}
	return time.Unix(int64(s), int64(ns)), true
}
