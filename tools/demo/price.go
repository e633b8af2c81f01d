package main

import "strings"

// declaredCost finds the line `cdk synth` printed for stack, what its tables are declared to
// cost a month ("Wallet-dev: 1 table, 1 RCU / 1 WCU provisioned: $0.57/month at us-east-1 prices"), and returns it
// without the stack's name; a deploy that printed none says so.
func declaredCost(printed, stack string) string {
	for _, line := range strings.Split(printed, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), stack+": "); ok && strings.Contains(rest, "/month") {
			return rest
		}
	}
	return "no price line printed"
}
