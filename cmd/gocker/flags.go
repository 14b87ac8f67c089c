package main

import "github.com/urfave/cli/v2"

// listFlag is a repeatable string flag whose long and short forms may be
// mixed on one command line, as Docker allows ("-e A=1 --env B=2").
// urfave/cli rejects a flag given under two of its names, checking the
// names that Names returns; listFlag reports only its long name there,
// while Apply (from StringSliceFlag) registers one value under every name,
// so the values keep their command-line order.
type listFlag struct {
	*cli.StringSliceFlag
}

// Names returns the long name only; see the type's comment.
func (f listFlag) Names() []string { return []string{f.Name} }

func newListFlag(name, alias, usage string) cli.Flag {
	flag := &cli.StringSliceFlag{Name: name, Usage: usage}
	if alias != "" {
		flag.Aliases = []string{alias}
	}
	return listFlag{flag}
}

// flagGiven reports whether the command line of c gave the flag name under
// any of its names. It matches c.IsSet for gocker's flags, which take no
// values from the environment or files, and collects the given flags once
// per context. IsSet of a flag that was not given runs urfave/cli's Names,
// a regular expression, for every flag of the command. For run's 60 flags
// and the six it checks, that cost about 0.2 ms of each start.
func flagGiven(c *cli.Context, name string) bool {
	if givenFlagsCache.ctx != c {
		givenFlagsCache.ctx, givenFlagsCache.names = c, givenFlagNames(c)
	}
	return givenFlagsCache.names[name]
}

// givenFlagsCache contains the given flags of the last context that
// flagGiven saw. A gocker process runs one command, so one entry is enough.
var givenFlagsCache struct {
	ctx   *cli.Context
	names map[string]bool
}

// givenFlagNames returns every name of every flag that the command line
// of c gave.
func givenFlagNames(c *cli.Context) map[string]bool {
	names := map[string]bool{}
	for _, n := range c.LocalFlagNames() {
		names[n] = true
	}
	if c.Command == nil {
		return names
	}
	for _, f := range c.Command.Flags {
		all := f.Names()
		for _, n := range all {
			if names[n] {
				for _, m := range all {
					names[m] = true
				}
				break
			}
		}
	}
	return names
}
