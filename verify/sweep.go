package main

import "github.com/spf13/cobra"

// Placeholder: replaced by the real command.
func newSweepCmd(io streams) *cobra.Command {
	return &cobra.Command{Use: "sweep", RunE: func(*cobra.Command, []string) error { return usageErr("sweep: not built yet") }}
}
