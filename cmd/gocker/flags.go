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
