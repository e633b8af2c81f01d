package main

import "github.com/spf13/cobra"

// Placeholder: replaced by the real commands.
func newExportCmd(io streams) *cobra.Command {
	return &cobra.Command{Use: "export", RunE: func(*cobra.Command, []string) error { return usageErr("export: not built yet") }}
}

func newRestoreCmd(io streams) *cobra.Command {
	return &cobra.Command{Use: "restore", RunE: func(*cobra.Command, []string) error { return usageErr("restore: not built yet") }}
}
