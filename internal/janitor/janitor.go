// Package janitor is one scheduled run of the WalletJanitor function in its own account and
// region: discover this project's tables, act on them, report. The report is a value; Run logs
// it as one JSON line and announces it on the stack's topic, and the Lambda handler returns it.
//
// Phase 1 (this skeleton) only reads: it lists the tables tagged Project=wallet with their
// janitor mark and keep flag. Marking, backing up and deleting come with the sweep's deletion
// engine; the seams are here already: the narrow client interfaces, Config from the
// environment, Report, and the notification.
package janitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"golang.org/x/sync/errgroup"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// DynamoDB is every DynamoDB call a run makes.
type DynamoDB interface {
	ListTables(ctx context.Context, in *dynamodb.ListTablesInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
}

// Topic is the one SNS call: announcing the run.
type Topic interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Clients are one region's clients.
type Clients struct {
	Region   string
	DynamoDB DynamoDB
	Topic    Topic
}

// NewClients builds the clients from cfg (cfg.Region is the region the run looks at).
func NewClients(cfg aws.Config) Clients {
	return Clients{Region: cfg.Region, DynamoDB: dynamodb.NewFromConfig(cfg), Topic: sns.NewFromConfig(cfg)}
}

// Deps is what a run needs besides its configuration.
type Deps struct {
	Clients
	// Log receives the report as one JSON line (stdout under Lambda, hence CloudWatch Logs).
	Log io.Writer
	// Now is the run's clock (default time.Now).
	Now func() time.Time
}

// Config is what the janitor stack configures the function with.
type Config struct {
	Mode     wallet.JanitorMode
	Grace    time.Duration
	TopicArn string
}

// ConfigFromEnv reads the function's configuration from its environment (os.LookupEnv under
// Lambda), naming every bad or missing variable in one error.
func ConfigFromEnv(get wallet.Lookup) (Config, error) {
	var c Config
	var errs []error
	bad := func(name, value, allowed string) {
		errs = append(errs, fmt.Errorf("invalid environment %s=%q: %s", name, value, allowed))
	}
	if v, ok := get(wallet.EnvJanitorMode); !ok {
		bad(wallet.EnvJanitorMode, "", "not set; want one of delete, report")
	} else if m, err := wallet.ParseJanitorMode(v); err != nil {
		bad(wallet.EnvJanitorMode, v, err.Error())
	} else {
		c.Mode = m
	}
	if v, ok := get(wallet.EnvJanitorGrace); !ok {
		bad(wallet.EnvJanitorGrace, "", "not set; want a duration such as 24h")
	} else if d, err := wallet.ParseDuration(v); err != nil {
		bad(wallet.EnvJanitorGrace, v, err.Error())
	} else {
		c.Grace = d
	}
	if v, _ := get(wallet.EnvJanitorTopicArn); !strings.HasPrefix(v, "arn:") {
		bad(wallet.EnvJanitorTopicArn, v, "want the ARN of the janitor's SNS topic")
	} else {
		c.TopicArn = v
	}
	return c, errors.Join(errs...)
}

// Report is one run.
type Report struct {
	Region    string             `json:"region"`
	Mode      wallet.JanitorMode `json:"mode"`
	Grace     string             `json:"grace"`
	StartedAt time.Time          `json:"started_at"`
	Tables    []Table            `json:"tables"`
	Problems  []Problem          `json:"problems,omitempty"`
}

// Table is one of this project's tables as the run found it.
type Table struct {
	Table string `json:"table"`
	// DeleteAfter is the janitor's mark exactly as the tag holds it ("" when unmarked).
	DeleteAfter string `json:"delete_after,omitempty"`
	Keep        bool   `json:"keep,omitempty"`
	Protected   bool   `json:"protected,omitempty"`
}

// Problem is something the run could not do; any problem fails the run, so the alarm fires.
type Problem struct {
	Table string `json:"table,omitempty"`
	Error string `json:"error"`
}

// describeConcurrency bounds the DescribeTable and ListTagsOfResource calls in flight: enough
// for a few hundred tables in seconds, well under DynamoDB's control-plane rate.
const describeConcurrency = 8

// Run is one scheduled run. It returns the report and, when anything failed, an error too.
func Run(ctx context.Context, d Deps, cfg Config) (Report, error) {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	r := Report{Region: d.Region, Mode: cfg.Mode, Grace: wallet.FormatDuration(cfg.Grace), StartedAt: now().UTC(), Tables: []Table{}}
	r.Tables, r.Problems = list(ctx, d.DynamoDB)

	if d.Log != nil {
		b, err := json.Marshal(r)
		if err != nil {
			return r, fmt.Errorf("encode report: %w", err)
		}
		fmt.Fprintf(d.Log, "%s\n", b)
	}
	var errs []error
	for _, p := range r.Problems {
		if p.Table != "" {
			errs = append(errs, fmt.Errorf("%s: %s", p.Table, p.Error))
		} else {
			errs = append(errs, errors.New(p.Error))
		}
	}
	if err := notify(ctx, d.Topic, cfg.TopicArn, r); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return r, fmt.Errorf("janitor run in %s: %w", d.Region, errors.Join(errs...))
	}
	return r, nil
}

// list reads every ListTables page, then each table's description and tags, and keeps the
// tables tagged Project=wallet. A table that vanished in between is simply not there.
func list(ctx context.Context, db DynamoDB) ([]Table, []Problem) {
	var names []string
	p := dynamodb.NewListTablesPaginator(db, &dynamodb.ListTablesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return []Table{}, []Problem{{Error: fmt.Sprintf("list tables: %v", err)}}
		}
		names = append(names, page.TableNames...)
	}

	tables := []Table{}
	var problems []Problem
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(describeConcurrency)
	for _, name := range names {
		g.Go(func() error {
			t, ours, err := read(gctx, db, name)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				problems = append(problems, Problem{Table: name, Error: err.Error()})
			case ours:
				tables = append(tables, t)
			}
			return nil
		})
	}
	_ = g.Wait() // the goroutines record problems instead of failing the group
	sort.Slice(tables, func(i, j int) bool { return tables[i].Table < tables[j].Table })
	sort.Slice(problems, func(i, j int) bool { return problems[i].Table < problems[j].Table })
	return tables, problems
}

func read(ctx context.Context, db DynamoDB, name string) (Table, bool, error) {
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var gone *types.ResourceNotFoundException
	if errors.As(err, &gone) {
		return Table{}, false, nil
	}
	if err != nil {
		return Table{}, false, fmt.Errorf("describe: %w", err)
	}
	tags := map[string]string{}
	in := &dynamodb.ListTagsOfResourceInput{ResourceArn: out.Table.TableArn}
	for {
		page, err := db.ListTagsOfResource(ctx, in)
		if errors.As(err, &gone) {
			return Table{}, false, nil
		}
		if err != nil {
			return Table{}, false, fmt.Errorf("list tags: %w", err)
		}
		for _, t := range page.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if page.NextToken == nil {
			break
		}
		in.NextToken = page.NextToken
	}
	if tags[wallet.TagProject] != wallet.ProjectName {
		return Table{}, false, nil
	}
	return Table{
		Table:       name,
		DeleteAfter: tags[wallet.TagJanitorDeleteAfter],
		Keep:        strings.EqualFold(tags[wallet.TagKeep], "true"),
		Protected:   aws.ToBool(out.Table.DeletionProtectionEnabled),
	}, true, nil
}
