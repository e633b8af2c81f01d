package main

import "github.com/spf13/cobra"

// Placeholders, each replaced by its own file (check.go, teardown.go, sweep.go, archive.go).

func newCheckCmd(io streams) *cobra.Command {
	return &cobra.Command{Use: "check", RunE: func(*cobra.Command, []string) error { return usageErr("not built yet") }}
}
func newTeardownCmd(io streams) *cobra.Command { return &cobra.Command{Use: "teardown"} }
func newSweepCmd(io streams) *cobra.Command    { return &cobra.Command{Use: "sweep"} }
func newExportCmd(io streams) *cobra.Command   { return &cobra.Command{Use: "export"} }
func newRestoreCmd(io streams) *cobra.Command  { return &cobra.Command{Use: "restore"} }
