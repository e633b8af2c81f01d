package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"

	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/pricelist"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// synthesized is one stack's template as synth wrote it, and the region it is for ("" when the
// stack names none).
type synthesized struct{ stack, template, region string }

// printPrices prints, on stderr (stdout of `cdk synth` is the template), what each synthesized
// stack's tables are declared to cost a month, priced by the code of `verify cost --template`
// at the prices in use: the stack's region's (from the price list's cache, else the shipped
// table), overridden by the WALLET_PRICE_* environment.
func printPrices(w io.Writer, asm cxapi.CloudAssembly, getenv func(string) string) {
	var stacks []synthesized
	for _, s := range *asm.StacksRecursively() {
		region := ""
		if env := s.Environment(); env != nil && env.Region != nil && *env.Region != "unknown-region" {
			region = *env.Region
		}
		stacks = append(stacks, synthesized{stack: *s.StackName(), template: *s.TemplateFullPath(), region: region})
	}
	priceLines(w, stacks, getenv)
}

// synthRegion is the region a stack without one of its own is priced in: CDK's default
// (CDK_DEFAULT_REGION, from the CLI's profile), else the environment's, else us-east-1.
func synthRegion(getenv func(string) string) string {
	for _, k := range []string{"CDK_DEFAULT_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		if r := getenv(k); r != "" {
			return r
		}
	}
	return "us-east-1"
}

// priceLines prints one line a stack. A price that cannot be worked out is said, never fatal:
// the template is already written, and a deploy does not wait on an estimate. Synth asks no
// network for prices: the price list's cache (which verify fills), then the shipped table.
func priceLines(w io.Writer, stacks []synthesized, getenv func(string) string) {
	overrides := cost.Environment(getenv)
	if _, err := cost.USEast1().Override(overrides); err != nil {
		fmt.Fprintf(w, "Declared monthly cost not shown: %v\n", err)
		return
	}
	for _, s := range stacks {
		body, err := os.ReadFile(s.template)
		if err != nil {
			fmt.Fprintf(w, "%s: declared monthly cost not shown: %v\n", s.stack, err)
			continue
		}
		region := s.region
		if region == "" {
			region = synthRegion(getenv)
		}
		regions := []string{region} // the stack's first, then its replicas'
		for _, r := range cost.TemplateRegions(body) {
			if !slices.Contains(regions, r) {
				regions = append(regions, r)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		prices := pricelist.Resolve(ctx, pricelist.Options{Regions: regions, Offline: true})
		cancel()
		prices, _ = prices.Override(overrides) // read above: cannot fail
		d, err := cost.Declare(body, prices)
		if err != nil {
			fmt.Fprintf(w, "%s: declared monthly cost not shown: %v\n", s.stack, err)
			continue
		}
		fmt.Fprintln(w, d.Summary(s.stack)+" at "+strings.Join(regions, ", ")+" prices"+unknownRegions(prices, regions))
	}
}

// unknownRegions says which regions have no prices of their own (not a commercial region the
// shipped table knows, and none cached): their figures are us-east-1's, which the line must not
// pass off as the region's.
func unknownRegions(p cost.Prices, regions []string) string {
	var unknown []string
	for _, r := range regions {
		if _, ok := cost.Shipped(r, wallet.ClassStandard); !ok && strings.HasPrefix(p.In(r).Source, "the shipped table") {
			unknown = append(unknown, r)
		}
	}
	if len(unknown) == 0 {
		return ""
	}
	return fmt.Sprintf(" (no prices are known for %s, not a commercial region: us-east-1's, an estimate)", strings.Join(unknown, ", "))
}
