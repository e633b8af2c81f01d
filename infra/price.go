package main

import (
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"

	"github.com/wallet-dynamodb/wallet/internal/cost"
)

// synthesized is one stack's template as synth wrote it.
type synthesized struct{ stack, template string }

// printPrices prints, on stderr (stdout of `cdk synth` is the template), what each synthesized
// stack's tables are declared to cost a month, priced by the code of `verify cost --template`
// at the prices in use: the list prices overridden by the WALLET_PRICE_* environment.
func printPrices(w io.Writer, asm cxapi.CloudAssembly, getenv func(string) string) {
	var stacks []synthesized
	for _, s := range *asm.StacksRecursively() {
		stacks = append(stacks, synthesized{stack: *s.StackName(), template: *s.TemplateFullPath()})
	}
	priceLines(w, stacks, getenv)
}

// priceLines prints one line a stack. A price that cannot be worked out is said, never fatal:
// the template is already written, and a deploy does not wait on an estimate.
func priceLines(w io.Writer, stacks []synthesized, getenv func(string) string) {
	prices, err := cost.USEast1().Override(cost.Environment(getenv))
	if err != nil {
		fmt.Fprintf(w, "Declared monthly cost not shown: %v\n", err)
		return
	}
	for _, s := range stacks {
		body, err := os.ReadFile(s.template)
		if err != nil {
			fmt.Fprintf(w, "%s: declared monthly cost not shown: %v\n", s.stack, err)
			continue
		}
		d, err := cost.Declare(body, prices)
		if err != nil {
			fmt.Fprintf(w, "%s: declared monthly cost not shown: %v\n", s.stack, err)
			continue
		}
		fmt.Fprintln(w, d.Summary(s.stack))
	}
}
