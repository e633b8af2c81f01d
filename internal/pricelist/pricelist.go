// Package pricelist is where a run's DynamoDB prices come from after the user's own (the --price-*
// flags and WALLET_PRICE_*, which cost.Prices.Override applies on top): the AWS Price List API
// (pricing:GetProducts, service code AmazonDynamoDB, filtered by regionCode), read once per region
// and kept on disk for 30 days; and, when the API cannot be reached, refuses, or gives an answer
// that is not a price list, the table shipped in the repository (cost.Shipped), said so in a note.
package pricelist

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	ptypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"
	"github.com/aws/smithy-go"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

// API is the one call this package makes.
type API interface {
	GetProducts(ctx context.Context, in *pricing.GetProductsInput, optFns ...func(*pricing.Options)) (*pricing.GetProductsOutput, error)
}

// Endpoints are the regions the Price List API is served from.
var Endpoints = []string{"us-east-1", "eu-central-1", "ap-south-1"}

// endpointsFor are the Price List's regions nearest first: Europe, the Middle East and Africa ask
// Frankfurt, Asia and the Pacific Mumbai, the Americas North Virginia; then the others.
func endpointsFor(region string) []string {
	first := "us-east-1"
	switch {
	case strings.HasPrefix(region, "eu-"), strings.HasPrefix(region, "me-"), strings.HasPrefix(region, "il-"), strings.HasPrefix(region, "af-"):
		first = "eu-central-1"
	case strings.HasPrefix(region, "ap-"):
		first = "ap-south-1"
	}
	out := []string{first}
	for _, e := range Endpoints {
		if e != first {
			out = append(out, e)
		}
	}
	return out
}

// Options say which regions to price and how.
type Options struct {
	// Config is the SDK configuration (credentials; AWS_ENDPOINT_URL_PRICING or AWS_ENDPOINT_URL,
	// which the SDK reads itself, for a local stand-in). Each endpoint's client is built from
	// it for that endpoint's region.
	Config aws.Config
	// Regions are the regions priced; the first is the one the returned Prices is of.
	Regions []string
	// CacheDir is where price lists are kept (default CacheDir()); Refresh reads the API again
	// even with a fresh cache.
	CacheDir string
	Refresh  bool
	// Offline asks no network: the cache, then the shipped table (synth, cost --template). A
	// Config without credentials (the zero Config of a command that loads none) is offline too:
	// the SDK would send such a request unsigned, to AWS's own endpoints whatever the environment
	// says, and it could only be refused.
	Offline bool
	// Budget bounds the price reads together (default: a third of the context's time left, at
	// most 30 s): a slow endpoint falls back to the shipped table inside the command's timeout.
	Budget time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Client builds the client of an endpoint region (default: pricing.NewFromConfig).
	Client func(endpoint string) API
}

// maxPages bounds one region's pages: its products fit in a few of 100; more is a token loop.
const maxPages = 30

// Resolve is the prices of every region of o, each from its fresh cache, else the API, else the
// shipped table, with notes saying which and why; the user's overrides go on top (Override).
func Resolve(ctx context.Context, o Options) cost.Prices {
	if len(o.Regions) == 0 {
		o.Regions = []string{"us-east-1"}
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	budget := o.Budget
	if budget <= 0 {
		budget = 30 * time.Second
		if d, ok := ctx.Deadline(); ok {
			budget = min(budget, max(time.Second, time.Until(d)/3))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	rv := resolver{Options: o, dir: o.CacheDir, endpoint: o.endpointURL()}
	if rv.dir == "" {
		rv.dir, rv.dirErr = CacheDir()
	}
	regions := slices.Clone(o.Regions)
	slices.Sort(regions)
	regions = slices.Compact(regions)

	var mu sync.Mutex
	byRegion := map[string][]cost.Prices{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, region := range regions {
		g.Go(func() error {
			entries := rv.region(gctx, region, now())
			mu.Lock()
			defer mu.Unlock()
			byRegion[region] = entries
			return nil
		})
	}
	_ = g.Wait()
	var all []cost.Prices
	first := o.Regions[0]
	all = append(all, byRegion[first]...)
	for _, r := range regions {
		if r != first {
			all = append(all, byRegion[r]...)
		}
	}
	return cost.Priced(all...)
}

// resolver is one Resolve: its options, where it keeps price lists, and the endpoint it asks.
type resolver struct {
	Options
	dir    string
	dirErr error // no cache directory: nothing is kept
	// endpoint is the Price List endpoint URL the configuration sets (AWS_ENDPOINT_URL_PRICING,
	// else AWS_ENDPOINT_URL: a stand-in, a local cloud); empty for AWS's own endpoints.
	endpoint string
}

// endpointURL is the endpoint URL the configuration sets for the Price List, as the SDK resolves
// it for a client (the service's own variable over the global one); empty for AWS's own.
func (o Options) endpointURL() string {
	return aws.ToString(pricing.NewFromConfig(o.Config).Options().BaseEndpoint)
}

// CachePath is the file region's price list is kept in: one per region, and apart for a price
// list read from an endpoint the configuration sets, so that a stand-in's or a local cloud's
// prices never stand for AWS's.
func (o Options) CachePath(region string) (string, error) {
	dir := o.CacheDir
	if dir == "" {
		var err error
		if dir, err = CacheDir(); err != nil {
			return "", err
		}
	}
	return cachePath(dir, region, o.endpointURL()), nil
}

// region is one region's two entries (Standard, then Standard-IA).
func (o resolver) region(ctx context.Context, region string, now time.Time) []cost.Prices {
	var notes []string
	if o.dirErr == nil && !o.Refresh {
		entries, fetched, err := readCache(o.dir, region, o.endpoint, now)
		switch {
		case err == nil:
			for i := range entries {
				entries[i].Source += fmt.Sprintf("; kept in %s since %s", cachePath(o.dir, region, o.endpoint), fetched.Format("2006-01-02"))
			}
			return entries
		case errors.Is(err, errStale), errors.Is(err, fs.ErrNotExist):
		default:
			notes = append(notes, fmt.Sprintf("the cached price list was ignored (%v)", err))
		}
	}
	if o.Offline || o.Config.Credentials == nil {
		// By design, not for want of an answer: the shipped table's source says where, and no
		// note says the region's prices are not its own when they are (the check's price_note).
		return shipped(region, notes)
	}
	entries, err := o.fetch(ctx, region, now)
	if err != nil {
		return shipped(region, append(notes, fmt.Sprintf("the AWS Price List API could not be read for %s (%v): the shipped table's prices", region, err)))
	}
	for i := range entries {
		entries[i].Notes = append(notes, entries[i].Notes...)
	}
	switch {
	case o.dirErr != nil:
		entries[0].Notes = append(entries[0].Notes, fmt.Sprintf("not kept on disk: no cache directory (%v)", o.dirErr))
	default:
		if err := writeCache(o.dir, region, o.endpoint, entries, now); err != nil {
			entries[0].Notes = append(entries[0].Notes, fmt.Sprintf("not kept on disk: %v", err))
		}
	}
	return entries
}

// shipped is the region's rows of the shipped table, with why they are used.
func shipped(region string, why []string) []cost.Prices {
	var out []cost.Prices
	for _, class := range []wallet.TableClass{wallet.ClassStandard, wallet.ClassStandardIA} {
		p := cost.Priced().For(region, class)
		p.Notes = append(slices.Clone(why), p.Notes...)
		out = append(out, p)
	}
	return out
}

// fetch reads the region's price list from the nearest endpoint, then the others, each given an
// equal share of the time left, so that a slow one leaves the others time to answer; a denial is
// the same everywhere, so it is not asked again. An endpoint the configuration sets is one
// endpoint, asked once.
func (o resolver) fetch(ctx context.Context, region string, now time.Time) ([]cost.Prices, error) {
	var errs []string
	endpoints := endpointsFor(region)
	if o.endpoint != "" {
		endpoints = endpoints[:1]
	}
	for i, endpoint := range endpoints {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if d, ok := ctx.Deadline(); ok {
			actx, cancel = context.WithTimeout(ctx, time.Until(d)/time.Duration(len(endpoints)-i))
		}
		entries, err := o.fetchFrom(actx, endpoint, region, now)
		cancel()
		if err == nil {
			return entries, nil
		}
		where := endpoint
		if o.endpoint != "" {
			where = o.endpoint
		}
		errs = append(errs, fmt.Sprintf("%s: %s", where, answered(err)))
		if awsconf.IsDenied(err) {
			return nil, fmt.Errorf("pricing:GetProducts denied: %s", strings.Join(errs, "; "))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.New(strings.Join(errs, "; "))
}

// answered says what an endpoint did when its answer was not a price list: an HTTP error whose
// body is not the API's (a local cloud without the Price List API answers 500 with a page of
// HTML) is said as such, not as the JSON decoder's complaint about its first character.
func answered(err error) string {
	var re *awshttp.ResponseError
	var de *smithy.DeserializationError
	if errors.As(err, &re) && errors.As(err, &de) && re.HTTPStatusCode() >= 300 {
		return fmt.Sprintf("answered HTTP %d, and not as the Price List API answers", re.HTTPStatusCode())
	}
	return err.Error()
}

func (o resolver) fetchFrom(ctx context.Context, endpoint, region string, now time.Time) ([]cost.Prices, error) {
	var client API
	if o.Client != nil {
		client = o.Client(endpoint)
	} else {
		client = pricing.NewFromConfig(o.Config, func(po *pricing.Options) {
			po.Region = endpoint
			po.RetryMaxAttempts = 2
		})
	}
	in := &pricing.GetProductsInput{
		ServiceCode:   aws.String("AmazonDynamoDB"),
		FormatVersion: aws.String("aws_v1"),
		MaxResults:    aws.Int32(100),
		Filters:       []ptypes.Filter{{Type: ptypes.FilterTypeTermMatch, Field: aws.String("regionCode"), Value: aws.String(region)}},
	}
	p := pricing.NewGetProductsPaginator(client, in, func(po *pricing.GetProductsPaginatorOptions) { po.StopOnDuplicateToken = true })
	f := newFound()
	seen := map[string]bool{}
	pages := 0
	for p.HasMorePages() {
		if pages++; pages > maxPages {
			return nil, fmt.Errorf("more than %d pages: a NextToken loop", maxPages)
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		if t := aws.ToString(page.NextToken); t != "" {
			if seen[t] {
				return nil, fmt.Errorf("NextToken %s came back: a NextToken loop", cut(t))
			}
			seen[t] = true
		}
		for _, item := range page.PriceList {
			if err := f.add(region, item); err != nil {
				return nil, err
			}
		}
	}
	source := fmt.Sprintf("the AWS Price List API (pricing:GetProducts, AmazonDynamoDB, regionCode %s, via %s)", region, endpoint)
	if o.endpoint != "" {
		source = fmt.Sprintf("the Price List API at %s, an endpoint set by AWS_ENDPOINT_URL_PRICING or AWS_ENDPOINT_URL, not AWS's own (pricing:GetProducts, AmazonDynamoDB, regionCode %s)", o.endpoint, region)
	}
	return f.entries(region, source, now.UTC().Format("2006-01-02"))
}
