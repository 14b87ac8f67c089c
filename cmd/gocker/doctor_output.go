package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/gocker/gocker/hostcheck"
)

func printResults(w io.Writer, format string, results []hostcheck.Result) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(results)
	}
	return printTable(w, results)
}

// printTable prints CHECK, STATUS and DETAIL columns and, under a row with
// a fix, the fix lines indented so that they read as part of the row.
// Details are not wrapped, so that each stays one line for grep.
func printTable(w io.Writer, results []hostcheck.Result) error {
	checkWidth, statusWidth := len("CHECK"), len("STATUS")
	for _, r := range results {
		checkWidth = max(checkWidth, len(r.Check))
		statusWidth = max(statusWidth, len(r.Status))
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%-*s  %-*s  %s\n", checkWidth, "CHECK", statusWidth, "STATUS", "DETAIL")
	for _, r := range results {
		fmt.Fprintf(bw, "%-*s  %-*s  %s\n", checkWidth, r.Check, statusWidth, r.Status, r.Detail)
		for i, line := range r.Fix {
			prefix := "       "
			if i == 0 {
				prefix = "  fix: "
			}
			fmt.Fprintf(bw, "%s%s\n", prefix, line)
		}
	}
	return bw.Flush()
}
