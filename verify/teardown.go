package main

import "github.com/spf13/cobra"

// Placeholder: replaced by the real command.
func newTeardownCmd(io streams) *cobra.Command {
	return &cobra.Command{Use: "teardown", RunE: func(*cobra.Command, []string) error { return usageErr("teardown: not built yet") }}
}
