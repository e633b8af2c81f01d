package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The report formats: text for people at a terminal, JSON for programs, Markdown for what a
// pull-request comment or a GitHub job summary shows.
const (
	formatText     = "text"
	formatJSON     = "json"
	formatMarkdown = "markdown"
)

var formats = []string{formatText, formatJSON, formatMarkdown}

// formatValue is --format: one of formats, refused as it is parsed otherwise.
type formatValue struct{ p *string }

func (v formatValue) String() string { return *v.p }
func (v formatValue) Type() string   { return "format" }

func (v formatValue) Set(s string) error {
	if !slices.Contains(formats, s) {
		return fmt.Errorf("want text, json or markdown")
	}
	*v.p = s
	return nil
}

// registerFormat adds --format and keeps --json as its alias (--format json).
func registerFormat(fs *pflag.FlagSet, format *string, asJSON *bool) {
	*format = formatText
	fs.Var(formatValue{format}, "format", "how to print the report: text, json or markdown (a pull-request comment or a job summary)")
	fs.BoolVar(asJSON, "json", false, "print the report as JSON (--format json)")
}

// formatOrJSON refuses --json beside a --format that says otherwise.
func formatOrJSON(c *cobra.Command, format string) error {
	if c.Flags().Changed("json") && c.Flags().Changed("format") && format != formatJSON {
		return usageErr("--json and --format %s cannot be used together: --json is --format json", format)
	}
	return nil
}

// markdownReport is a report that renders as Markdown too.
type markdownReport interface {
	WriteText(io.Writer) error
	WriteMarkdown(io.Writer) error
}

// renderAs writes a report in the format asked for (--json wins as --format json).
func renderAs(w io.Writer, format string, asJSON bool, r markdownReport) error {
	switch {
	case asJSON || format == formatJSON:
		return render(w, true, r, r.WriteText)
	case format == formatMarkdown:
		return r.WriteMarkdown(w)
	}
	return r.WriteText(w)
}
