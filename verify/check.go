package main

import "github.com/spf13/cobra"

// Placeholder: replaced by the real command.
func newCheckCmd(io streams) *cobra.Command {
	return &cobra.Command{Use: "check", RunE: func(*cobra.Command, []string) error { return usageErr("check: not built yet") }}
}
